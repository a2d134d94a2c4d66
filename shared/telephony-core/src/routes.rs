//! The public route of every webhook (spec §3: routes keep the original function names).

/// One Twilio-facing (or operator-facing) route of the hotline.
///
/// The path is relative to `PUBLIC_BASE_URL`; template.yaml declares the same paths (a test checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// The number's Voice URL: greeting and consent question.
    Frontdoor,
    /// Action of the consent `<Gather>`.
    Consent,
    /// Action of the menu `<Gather>`.
    MenuHandler,
    /// Action of the department `<Dial>`.
    RouteAction,
    /// Voicemail prompt and the `<Record>` action (`?step=done`).
    Voicemail,
    /// `recordingStatusCallback` of `<Dial record>` and `<Record>`.
    RecordingCallback,
    /// `transcribeCallback` of the voicemail `<Record>`.
    TranscriptionCallback,
    /// `statusCallback` of `<Number>` and of the number itself.
    Status,
    /// The number's VoiceFallbackUrl.
    Fallback,
    /// Health check (GET, JSON).
    Health,
    /// Inbound SMS/MMS webhook (the number's Messaging URL); alias `/twilio/sms`.
    SmsReply,
    /// Message status callback; alias `/twilio/sms-status`.
    SmsStatus,
}

impl Route {
    /// Every route: voice in call-flow order, then messaging.
    pub const ALL: [Route; 12] = [
        Route::Frontdoor,
        Route::Consent,
        Route::MenuHandler,
        Route::RouteAction,
        Route::Voicemail,
        Route::RecordingCallback,
        Route::TranscriptionCallback,
        Route::Status,
        Route::Fallback,
        Route::Health,
        Route::SmsReply,
        Route::SmsStatus,
    ];

    /// The route's path, e.g. `/voice-frontdoor`; also the function (crate) name without the slash.
    pub const fn path(self) -> &'static str {
        match self {
            Route::Frontdoor => "/voice-frontdoor",
            Route::Consent => "/voice-consent",
            Route::MenuHandler => "/voice-menu-handler",
            Route::RouteAction => "/voice-route-action",
            Route::Voicemail => "/voice-voicemail",
            Route::RecordingCallback => "/voice-recording-callback",
            Route::TranscriptionCallback => "/voice-transcription-callback",
            Route::Status => "/voice-status",
            Route::Fallback => "/voice-fallback",
            Route::Health => "/voice-health",
            Route::SmsReply => "/webcomms-sms-reply",
            Route::SmsStatus => "/webcomms-sms-status",
        }
    }

    /// Legacy paths served by the same function (spec §4: the original's Twilio-style aliases).
    pub const fn aliases(self) -> &'static [&'static str] {
        match self {
            Route::SmsReply => &["/twilio/sms"],
            Route::SmsStatus => &["/twilio/sms-status"],
            _ => &[],
        }
    }

    /// The route's HTTP method: GET for the health check, POST for every webhook.
    pub const fn method(self) -> &'static str {
        match self {
            Route::Health => "GET",
            _ => "POST",
        }
    }

    /// The function name (the path without its leading slash).
    pub fn function_name(self) -> &'static str {
        &self.path()[1..]
    }

    /// Absolute URL of this route under `base` (no trailing slash expected; one is tolerated),
    /// with the query pairs form-encoded in the given order.
    pub fn url(self, base: &str, query: &[(&str, &str)]) -> String {
        let mut url = String::with_capacity(base.len() + 48);
        url.push_str(base.trim_end_matches('/'));
        url.push_str(self.path());
        if !query.is_empty() {
            url.push('?');
            let mut ser = form_urlencoded::Serializer::for_suffix(url, url_len_hint(base, self));
            for (k, v) in query {
                ser.append_pair(k, v);
            }
            return ser.finish();
        }
        url
    }
}

fn url_len_hint(base: &str, route: Route) -> usize {
    base.trim_end_matches('/').len() + route.path().len() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_joins_base_path_and_encoded_query() {
        assert_eq!(
            Route::Voicemail.url(
                "https://h.example/",
                &[("reason", "no answer"), ("step", "done")]
            ),
            "https://h.example/voice-voicemail?reason=no+answer&step=done"
        );
        assert_eq!(
            Route::Frontdoor.url("https://h.example", &[]),
            "https://h.example/voice-frontdoor"
        );
    }

    #[test]
    fn function_names_match_paths() {
        for r in Route::ALL {
            assert_eq!(format!("/{}", r.function_name()), r.path());
        }
    }
}

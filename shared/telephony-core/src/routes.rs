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
    /// `statusCallback` of the AI `<Stream>` (issue 12): `stream-started|stopped|error`.
    StreamStatus,
    /// `action` of the AI `<Connect>`, requested when the stream ends (issue 12).
    StreamAction,
    /// `action` of the `<Connect><ConversationRelay>` (issue 28), requested when the AI
    /// receptionist's session ends.
    RelayAction,
    /// Inbound SMS/MMS webhook (the number's Messaging URL); alias `/twilio/sms`.
    SmsReply,
    /// Message status callback; alias `/twilio/sms-status`.
    SmsStatus,
}

impl Route {
    /// Every route: voice in call-flow order, then messaging.
    pub const ALL: [Route; 15] = [
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
        Route::StreamStatus,
        Route::StreamAction,
        Route::RelayAction,
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
            Route::StreamStatus => "/voice-stream-status",
            Route::StreamAction => "/voice-stream-action",
            Route::RelayAction => "/voice-relay-action",
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

    /// The route serving `path` (aliases included), if any.
    pub fn from_path(path: &str) -> Option<Route> {
        Route::ALL
            .into_iter()
            .find(|r| r.path() == path || r.aliases().contains(&path))
    }

    /// Whether Twilio is asked to retry this route's callbacks ([`CALLBACK_RETRY_FRAGMENT`]):
    /// the recording and transcription callbacks, whose loss would lose a voicemail, and the
    /// Messaging URL, whose loss would lose an opt-out (issue 27 §10; it answers 503 when its
    /// write did not happen).
    pub const fn asks_for_retries(self) -> bool {
        matches!(
            self,
            Route::RecordingCallback | Route::TranscriptionCallback | Route::SmsReply
        )
    }

    /// [`Route::url`], followed by [`CALLBACK_RETRY_FRAGMENT`] when the route
    /// [asks for retries](Route::asks_for_retries). This is the URL to put in TwiML.
    pub fn callback_url(self, base: &str, query: &[(&str, &str)]) -> String {
        let mut url = self.url(base, query);
        if self.asks_for_retries() {
            url.push_str(CALLBACK_RETRY_FRAGMENT);
        }
        url
    }

    /// The function name (the path without its leading slash).
    pub fn function_name(self) -> &'static str {
        &self.path()[1..]
    }

    /// Absolute URL of this route under `base` (no trailing slash expected; one is tolerated),
    /// with the query pairs form-encoded **sorted by name** (a stable sort: repeated names keep
    /// their order). Twilio has been reported to sort a URL's query before requesting it while
    /// signing the URL as given (twilio/twilio-php#790, twilio/twilio-node#1079): with the query
    /// already sorted, the signed and the delivered URL are the same either way (issue 27 §2).
    pub fn url(self, base: &str, query: &[(&str, &str)]) -> String {
        let mut url = String::with_capacity(base.len() + 48);
        url.push_str(base.trim_end_matches('/'));
        url.push_str(self.path());
        if !query.is_empty() {
            let mut sorted = query.to_vec();
            sorted.sort_by_key(|(k, _)| *k);
            url.push('?');
            let mut ser = form_urlencoded::Serializer::for_suffix(url, url_len_hint(base, self));
            for (k, v) in sorted {
                ser.append_pair(k, v);
            }
            return ser.finish();
        }
        url
    }
}

/// Twilio "Webhooks connection overrides" fragment appended to the recording and transcription
/// callback URLs: `rc` = retry count (0–5, default 1), `rp` = retry policy (`4xx`, `5xx`, `ct`
/// connect timeout, `rt` read timeout, or `all`; default `ct`). Three retries on any failure, so
/// a 503 from a storage outage is retried instead of dropped (issue "Hardening", finding 3).
/// The fragment is never sent to us (RFC 3986 §3.5); the signature check accepts the signed URL
/// with or without it.
pub const CALLBACK_RETRY_FRAGMENT: &str = "#rc=3&rp=all";

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
    fn query_parameters_are_written_sorted_by_name() {
        assert_eq!(
            Route::MenuHandler.url(
                "https://h",
                &[("attempt", "1"), ("repeats", "0"), ("lang", "en")]
            ),
            "https://h/voice-menu-handler?attempt=1&lang=en&repeats=0"
        );
        assert_eq!(
            Route::Voicemail.url("https://h", &[("z", "1"), ("a", "2"), ("z", "0")]),
            "https://h/voice-voicemail?a=2&z=1&z=0"
        );
    }

    #[test]
    fn only_recording_and_transcription_callbacks_and_the_messaging_url_ask_for_retries() {
        assert_eq!(
            Route::RecordingCallback.callback_url("https://h", &[("kind", "voicemail")]),
            "https://h/voice-recording-callback?kind=voicemail#rc=3&rp=all"
        );
        assert_eq!(
            Route::TranscriptionCallback.callback_url("https://h", &[]),
            "https://h/voice-transcription-callback#rc=3&rp=all"
        );
        assert_eq!(
            Route::Status.callback_url("https://h", &[]),
            "https://h/voice-status"
        );
        assert_eq!(
            Route::SmsReply.callback_url("https://h", &[]),
            "https://h/webcomms-sms-reply#rc=3&rp=all"
        );
        assert_eq!(Route::from_path("/twilio/sms"), Some(Route::SmsReply));
        assert_eq!(Route::from_path("/nope"), None);
    }

    #[test]
    fn function_names_match_paths() {
        for r in Route::ALL {
            assert_eq!(format!("/{}", r.function_name()), r.path());
        }
    }
}

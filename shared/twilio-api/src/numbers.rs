//! Provisioning calls: subaccounts, number search, purchase, webhook binding, release, and
//! Messaging Service membership. Each method names its endpoint and operation in Twilio's OpenAPI
//! documents (`twilio_api_v2010.json`, `twilio_messaging_v1.json`, vendored in
//! `infra/twilio-oai/`), which the contract tests run every method against.

use crate::{decode, encode as query, Client, Retry, TwilioError, MAX_PAGES};
use reqwest::Method;
use serde::Deserialize;

/// An account (api v2010 `Account`), the fields we use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Account {
    /// `AC…`.
    pub sid: Option<String>,
    /// The name given at creation.
    pub friendly_name: Option<String>,
    /// `active`, `suspended` or `closed`.
    pub status: Option<String>,
    /// The parent account of a subaccount.
    pub owner_account_sid: Option<String>,
}

/// What a number can do (`capabilities` of a number resource).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    /// Voice calls.
    #[serde(alias = "voice")]
    pub voice: bool,
    /// SMS (`SMS` in the available-number resource, `sms` in the incoming one).
    #[serde(alias = "SMS", alias = "sms")]
    pub sms: bool,
    /// MMS.
    #[serde(alias = "MMS", alias = "mms")]
    pub mms: bool,
}

/// A number offered for purchase (api v2010 `AvailablePhoneNumberLocal`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AvailableNumber {
    /// E.164.
    pub phone_number: Option<String>,
    /// Formatted for display.
    pub friendly_name: Option<String>,
    /// City.
    pub locality: Option<String>,
    /// Province or state, two letters.
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub iso_country: Option<String>,
    /// Capabilities.
    #[serde(default)]
    pub capabilities: Option<Capabilities>,
}

/// A number of ours (api v2010 `IncomingPhoneNumber`), the fields we use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IncomingNumber {
    /// `PN…`.
    pub sid: Option<String>,
    /// Owning account.
    pub account_sid: Option<String>,
    /// E.164.
    pub phone_number: Option<String>,
    /// Name shown in the console.
    pub friendly_name: Option<String>,
    /// Where incoming calls are sent.
    pub voice_url: Option<String>,
    /// `GET` or `POST`.
    pub voice_method: Option<String>,
    /// Used when `voice_url` fails.
    pub voice_fallback_url: Option<String>,
    /// Call status callback.
    pub status_callback: Option<String>,
    /// Where incoming messages are sent.
    pub sms_url: Option<String>,
    /// `GET` or `POST`.
    pub sms_method: Option<String>,
    /// Used when `sms_url` fails.
    pub sms_fallback_url: Option<String>,
}

/// Search criteria for local numbers. Every `None` is left out of the query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberSearch {
    /// `AreaCode` (US/CA three digits).
    pub area_code: Option<String>,
    /// `InRegion`: province or state, two letters (US/CA).
    pub in_region: Option<String>,
    /// `Contains`: a pattern of digits, letters and `*`.
    pub contains: Option<String>,
    /// `SmsEnabled`.
    pub sms_enabled: Option<bool>,
    /// `VoiceEnabled`.
    pub voice_enabled: Option<bool>,
    /// `PageSize` (Twilio's maximum is 1000; the first page is all a purchase needs).
    pub page_size: Option<u32>,
}

/// Fields of a number to set, on purchase or update. Only the fields given are sent: an omitted
/// field keeps its value at Twilio (flaw F-70: the original sent empty strings, which cleared the
/// SMS URL of numbers it only meant to re-point for voice).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberFields {
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// `VoiceUrl`.
    pub voice_url: Option<String>,
    /// `VoiceMethod` (`POST` for all of ours).
    pub voice_method: Option<String>,
    /// `VoiceFallbackUrl`.
    pub voice_fallback_url: Option<String>,
    /// `VoiceFallbackMethod`.
    pub voice_fallback_method: Option<String>,
    /// `StatusCallback` (call status).
    pub status_callback: Option<String>,
    /// `StatusCallbackMethod`.
    pub status_callback_method: Option<String>,
    /// `SmsUrl`.
    pub sms_url: Option<String>,
    /// `SmsMethod`.
    pub sms_method: Option<String>,
    /// `SmsFallbackUrl`.
    pub sms_fallback_url: Option<String>,
    /// `SmsFallbackMethod`.
    pub sms_fallback_method: Option<String>,
}

impl NumberFields {
    /// The form fields, in a fixed order, only those set.
    pub fn form(&self) -> Vec<(&'static str, String)> {
        [
            ("FriendlyName", &self.friendly_name),
            ("VoiceUrl", &self.voice_url),
            ("VoiceMethod", &self.voice_method),
            ("VoiceFallbackUrl", &self.voice_fallback_url),
            ("VoiceFallbackMethod", &self.voice_fallback_method),
            ("StatusCallback", &self.status_callback),
            ("StatusCallbackMethod", &self.status_callback_method),
            ("SmsUrl", &self.sms_url),
            ("SmsMethod", &self.sms_method),
            ("SmsFallbackUrl", &self.sms_fallback_url),
            ("SmsFallbackMethod", &self.sms_fallback_method),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }
}

#[derive(Deserialize)]
struct AvailablePage {
    #[serde(default)]
    available_phone_numbers: Vec<AvailableNumber>,
}

#[derive(Deserialize)]
struct IncomingPage {
    #[serde(default)]
    incoming_phone_numbers: Vec<IncomingNumber>,
    next_page_uri: Option<String>,
}

/// A number's membership of a Messaging Service (messaging v1 `PhoneNumber`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServiceNumber {
    /// The number's `PN…`.
    pub sid: Option<String>,
    /// The service, `MG…`.
    pub service_sid: Option<String>,
    /// E.164.
    pub phone_number: Option<String>,
}

impl Client {
    fn account_path(&self, rest: &str) -> String {
        self.url(&format!(
            "/2010-04-01/Accounts/{}{rest}",
            self.config.account_sid
        ))
    }

    /// Creates a subaccount of this account. Sent once (a retry could create two).
    ///
    /// Endpoint: `POST /2010-04-01/Accounts.json` (`CreateAccount`; `FriendlyName`).
    ///
    /// Errors: [`TwilioError`].
    pub async fn create_subaccount(&self, friendly_name: &str) -> Result<Account, TwilioError> {
        let form = [("FriendlyName", friendly_name.to_owned())];
        let url = self.url("/2010-04-01/Accounts.json");
        decode(
            &self
                .send(Method::POST, &url, Some(&form), Retry::Once)
                .await?,
        )
    }

    /// One account.
    ///
    /// Endpoint: `GET /2010-04-01/Accounts/{Sid}.json` (`FetchAccount`).
    ///
    /// Errors: [`TwilioError`] (`status` 404 for an unknown SID).
    pub async fn fetch_account(&self, sid: &str) -> Result<Account, TwilioError> {
        self.get_json(&self.url(&format!("/2010-04-01/Accounts/{sid}.json")))
            .await
    }

    /// Closes a subaccount (the saga's compensation for [`Client::create_subaccount`]; Twilio
    /// has no DELETE for accounts). Idempotent.
    ///
    /// Endpoint: `POST /2010-04-01/Accounts/{Sid}.json` (`UpdateAccount`; `Status=closed`).
    ///
    /// Errors: [`TwilioError`].
    pub async fn close_subaccount(&self, sid: &str) -> Result<Account, TwilioError> {
        let form = [("Status", "closed".to_owned())];
        let url = self.url(&format!("/2010-04-01/Accounts/{sid}.json"));
        decode(
            &self
                .send(Method::POST, &url, Some(&form), Retry::Idempotent)
                .await?,
        )
    }

    /// Local numbers for sale in `country` (ISO 3166-1 alpha-2, e.g. `CA`), first page.
    ///
    /// Endpoint: `GET /2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json`
    /// (`ListAvailablePhoneNumberLocal`; `AreaCode`, `InRegion`, `Contains`, `SmsEnabled`,
    /// `VoiceEnabled`, `PageSize`, URL-encoded).
    ///
    /// Errors: [`TwilioError`]; [`TwilioError::Decode`] for a country that is not two letters.
    pub async fn search_local_numbers(
        &self,
        country: &str,
        search: &NumberSearch,
    ) -> Result<Vec<AvailableNumber>, TwilioError> {
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(TwilioError::Decode(format!(
                "country {country:?} is not an ISO 3166-1 alpha-2 code"
            )));
        }
        let mut q: Vec<(&str, String)> = Vec::new();
        let flag = |b: bool| if b { "true" } else { "false" }.to_owned();
        if let Some(v) = &search.area_code {
            q.push(("AreaCode", v.clone()));
        }
        if let Some(v) = &search.in_region {
            q.push(("InRegion", v.clone()));
        }
        if let Some(v) = &search.contains {
            q.push(("Contains", v.clone()));
        }
        if let Some(v) = search.sms_enabled {
            q.push(("SmsEnabled", flag(v)));
        }
        if let Some(v) = search.voice_enabled {
            q.push(("VoiceEnabled", flag(v)));
        }
        if let Some(v) = search.page_size {
            q.push(("PageSize", v.to_string()));
        }
        let mut url = self.account_path(&format!("/AvailablePhoneNumbers/{country}/Local.json"));
        if !q.is_empty() {
            url = format!("{url}?{}", query(&q));
        }
        let page: AvailablePage = self.get_json(&url).await?;
        Ok(page.available_phone_numbers)
    }

    /// Buys `e164` with `fields` set. Sent once: a retried purchase could buy two numbers
    /// (flaw F-67); on a transport failure the caller looks the number up with
    /// [`Client::find_number`] before trying again.
    ///
    /// Endpoint: `POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json`
    /// (`CreateIncomingPhoneNumber`; `PhoneNumber` and the given fields).
    ///
    /// Errors: [`TwilioError`] (Twilio answers 400 when the number is no longer available).
    pub async fn buy_number(
        &self,
        e164: &str,
        fields: &NumberFields,
    ) -> Result<IncomingNumber, TwilioError> {
        let mut form = vec![("PhoneNumber", e164.to_owned())];
        form.extend(fields.form());
        let url = self.account_path("/IncomingPhoneNumbers.json");
        decode(
            &self
                .send(Method::POST, &url, Some(&form), Retry::Once)
                .await?,
        )
    }

    /// Sets the given fields of number `sid`; fields not given are not sent and keep their value.
    /// Idempotent (the same values twice).
    ///
    /// Endpoint: `POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json`
    /// (`UpdateIncomingPhoneNumber`).
    ///
    /// Errors: [`TwilioError`]; [`TwilioError::Decode`] when no field is given (nothing to do).
    pub async fn update_number(
        &self,
        sid: &str,
        fields: &NumberFields,
    ) -> Result<IncomingNumber, TwilioError> {
        let form = fields.form();
        if form.is_empty() {
            return Err(TwilioError::Decode("no field to update".into()));
        }
        let url = self.account_path(&format!("/IncomingPhoneNumbers/{sid}.json"));
        decode(
            &self
                .send(Method::POST, &url, Some(&form), Retry::Idempotent)
                .await?,
        )
    }

    /// One number of ours.
    ///
    /// Endpoint: `GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json`
    /// (`FetchIncomingPhoneNumber`).
    ///
    /// Errors: [`TwilioError`] (`status` 404 when it is not ours).
    pub async fn fetch_number(&self, sid: &str) -> Result<IncomingNumber, TwilioError> {
        self.get_json(&self.account_path(&format!("/IncomingPhoneNumbers/{sid}.json")))
            .await
    }

    /// Every number of this account, all pages (`next_page_uri` followed).
    ///
    /// Endpoint: `GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json`
    /// (`ListIncomingPhoneNumber`; `PageSize`, and `PhoneNumber` when `e164` is given).
    ///
    /// Errors: [`TwilioError`].
    pub async fn list_numbers(
        &self,
        e164: Option<&str>,
    ) -> Result<Vec<IncomingNumber>, TwilioError> {
        let mut q = vec![("PageSize", "100".to_owned())];
        if let Some(n) = e164 {
            q.push(("PhoneNumber", n.to_owned()));
        }
        let mut next = Some(format!(
            "{}?{}",
            self.account_path("/IncomingPhoneNumbers.json"),
            query(&q)
        ));
        let mut all = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(TwilioError::Decode(format!(
                    "more than {MAX_PAGES} pages of numbers"
                )));
            }
            let page: IncomingPage = self.get_json(&url).await?;
            all.extend(page.incoming_phone_numbers);
            next = page
                .next_page_uri
                .filter(|u| !u.is_empty())
                .map(|u| self.url(&u));
        }
        Ok(all)
    }

    /// Our number `e164`, if this account owns it (after an uncertain purchase).
    ///
    /// Endpoint: as [`Client::list_numbers`] with `PhoneNumber`.
    ///
    /// Errors: [`TwilioError`].
    pub async fn find_number(&self, e164: &str) -> Result<Option<IncomingNumber>, TwilioError> {
        Ok(self
            .list_numbers(Some(e164))
            .await?
            .into_iter()
            .find(|n| n.phone_number.as_deref() == Some(e164)))
    }

    /// Releases number `sid` (it stops being ours and billed). Idempotent: a 404 (already
    /// released) counts as done.
    ///
    /// Endpoint: `DELETE /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json`
    /// (`DeleteIncomingPhoneNumber`, 204).
    ///
    /// Errors: [`TwilioError`] other than 404.
    pub async fn release_number(&self, sid: &str) -> Result<(), TwilioError> {
        let url = self.account_path(&format!("/IncomingPhoneNumbers/{sid}.json"));
        match self
            .send(Method::DELETE, &url, None, Retry::Idempotent)
            .await
        {
            Ok(_) => Ok(()),
            Err(TwilioError::Api { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Adds number `phone_number_sid` to Messaging Service `service_sid`. Idempotent at Twilio's
    /// side only in effect (a second add answers an error, 21710 "already in the service"), so
    /// it is sent once.
    ///
    /// Endpoint: `POST https://messaging.twilio.com/v1/Services/{ServiceSid}/PhoneNumbers`
    /// (messaging v1 `CreatePhoneNumber`; `PhoneNumberSid`).
    ///
    /// Errors: [`TwilioError`].
    pub async fn add_number_to_service(
        &self,
        service_sid: &str,
        phone_number_sid: &str,
    ) -> Result<ServiceNumber, TwilioError> {
        let form = [("PhoneNumberSid", phone_number_sid.to_owned())];
        let url = format!(
            "{}/v1/Services/{service_sid}/PhoneNumbers",
            self.config.messaging_base.trim_end_matches('/')
        );
        decode(
            &self
                .send(Method::POST, &url, Some(&form), Retry::Once)
                .await?,
        )
    }
}

/// A message resource (`api.v2010.account.message`), the fields we use.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Message {
    /// `SM…`.
    pub sid: Option<String>,
    /// `queued`, `sending`, `sent`…
    pub status: Option<String>,
}

/// A call resource (`api.v2010.account.call`), the fields we use.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Call {
    /// `CA…`.
    pub sid: Option<String>,
    /// `queued`, `ringing`…
    pub status: Option<String>,
}

impl Client {
    /// Places an outbound call from our number `from` to `to` running `twiml`, ringing at most
    /// `timeout_secs`. Sent once (a retry could call twice).
    ///
    /// Endpoint: `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` (`CreateCall`; `To`, `From`,
    /// `Twiml`, `Timeout`).
    ///
    /// Errors: [`TwilioError`].
    pub async fn create_call(
        &self,
        from: &str,
        to: &str,
        twiml: &str,
        timeout_secs: u32,
    ) -> Result<Call, TwilioError> {
        let form = [
            ("To", to.to_owned()),
            ("From", from.to_owned()),
            ("Twiml", twiml.to_owned()),
            ("Timeout", timeout_secs.to_string()),
        ];
        let url = self.account_path("/Calls.json");
        decode(
            &self
                .send(Method::POST, &url, Some(&form), Retry::Once)
                .await?,
        )
    }

    /// Sends one SMS from our number `from` to `to`. Sent once: a retry could text twice.
    ///
    /// Endpoint: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (`CreateMessage`; `To`,
    /// `From`, `Body`).
    ///
    /// Errors: [`TwilioError`] (e.g. 400 with code 21610 when the recipient opted out at Twilio).
    pub async fn send_message(
        &self,
        from: &str,
        to: &str,
        body: &str,
    ) -> Result<Message, TwilioError> {
        self.create_message(from, to, ("Body", body)).await
    }

    /// `CreateMessage` with `To`, `From` and one content field; sent once.
    async fn create_message(
        &self,
        from: &str,
        to: &str,
        content: (&'static str, &str),
    ) -> Result<Message, TwilioError> {
        let form = [
            ("To", to.to_owned()),
            ("From", from.to_owned()),
            (content.0, content.1.to_owned()),
        ];
        let url = self.account_path("/Messages.json");
        decode(
            &self
                .send(Method::POST, &url, Some(&form), Retry::Once)
                .await?,
        )
    }

    /// Sends an approved content template (`ContentSid`, `HX…`) from `from` to `to` — the only
    /// message WhatsApp allows outside the 24-hour customer-service window. Sent once.
    ///
    /// Endpoint: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (`CreateMessage`; `To`,
    /// `From`, `ContentSid`).
    ///
    /// Errors: [`TwilioError`].
    pub async fn send_template(
        &self,
        from: &str,
        to: &str,
        content_sid: &str,
    ) -> Result<Message, TwilioError> {
        self.create_message(from, to, ("ContentSid", content_sid))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_given_fields_are_sent() {
        let f = NumberFields {
            voice_url: Some("https://x/voice-frontdoor".into()),
            ..Default::default()
        };
        assert_eq!(
            f.form(),
            vec![("VoiceUrl", "https://x/voice-frontdoor".to_owned())]
        );
        assert!(NumberFields::default().form().is_empty());
    }

    #[test]
    fn numbers_decode_from_twilio_json() {
        let page: AvailablePage = serde_json::from_str(
            r#"{"available_phone_numbers":[{"phone_number":"+15875550100","friendly_name":"(587) 555-0100",
            "locality":"Calgary","region":"AB","iso_country":"CA","capabilities":{"voice":true,"SMS":true,"MMS":false}}]}"#,
        )
        .unwrap();
        let n = &page.available_phone_numbers[0];
        assert_eq!(n.phone_number.as_deref(), Some("+15875550100"));
        assert!(n.capabilities.as_ref().unwrap().sms);
    }
}

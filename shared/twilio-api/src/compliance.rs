//! US texting compliance, hosted SMS and porting (issue 10; the original called endpoints that do
//! not exist, flaw F-74). Each method names its endpoint in Twilio's OpenAPI documents
//! (`twilio_messaging_v1.json`, `twilio_numbers_v2.json`, `twilio_numbers_v1.json`, vendored in
//! `infra/twilio-oai/`), which the contract tests run every method against (Prism).

use crate::{decode, Client, Retry, TwilioError};
use reqwest::Method;
use serde::Deserialize;

/// An A2P brand registration (messaging v1 `BrandRegistrations`), the fields we use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BrandRegistration {
    /// `BN…`.
    pub sid: String,
    /// `PENDING`, `APPROVED`, `FAILED`, `IN_REVIEW`, `DELETION_PENDING`, `DELETION_FAILED`,
    /// `SUSPENDED`.
    pub status: String,
}

/// A US A2P campaign on a Messaging Service (messaging v1 `Compliance/Usa2p`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UsAppToPerson {
    /// `QE…`.
    pub sid: String,
    /// `IN_PROGRESS`, `VERIFIED`, `FAILED`, `PENDING`…
    pub campaign_status: Option<String>,
}

/// What a campaign registration declares (messaging v1 `CreateUsAppToPerson`'s required
/// fields and the opt-in/out/help texts).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// What the campaign sends (40–4096 characters).
    pub description: String,
    /// How end users opt in (40–2048 characters).
    pub message_flow: String,
    /// Two to five sample messages, 20–1024 characters each.
    pub message_samples: Vec<String>,
    /// Use case, e.g. `CUSTOMER_CARE`, `MIXED`, `LOW_VOLUME`.
    pub use_case: String,
    /// Messages contain links.
    pub has_embedded_links: bool,
    /// Messages contain phone numbers.
    pub has_embedded_phone: bool,
}

/// A hosted-number order (numbers v2 `HostedNumber/Orders`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HostedNumberOrder {
    /// `HR…`.
    pub sid: String,
    /// `received`, `pending-verification`, `verified`, `pending-loa`, `carrier-processing`,
    /// `testing`, `completed`, `failed`, `action-required`…
    pub status: String,
    /// The letter of authorization to sign (`PX…`), once Twilio made it.
    pub signing_document_sid: Option<String>,
    /// Why it failed, when it did.
    pub failure_reason: Option<String>,
}

/// What Twilio needs for a hosted SMS order (numbers v2 `CreateHostedNumberOrder`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedNumberRequest {
    /// The client's landline, E.164.
    pub phone_number: String,
    /// Who can confirm ownership by phone, E.164.
    pub contact_phone_number: String,
    /// The client's validated Address (`AD…`); never empty (F-74).
    pub address_sid: String,
    /// Where the letter of authorization is sent.
    pub email: String,
    /// Shown in Twilio's console.
    pub friendly_name: String,
    /// Our messaging webhook for the hosted number.
    pub sms_url: String,
}

/// The portability of a number (numbers v1 `Porting/Portability/PhoneNumber`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Portability {
    /// The number.
    pub phone_number: Option<String>,
    /// Whether it can be ported in automatically.
    pub portable: bool,
    /// Why not (`ALREADY_IN_TWILIO`, `UNSUPPORTED`, `MANUAL_PORTING_AVAILABLE`…).
    pub not_portable_reason: Option<String>,
    /// `LOCAL`, `MOBILE`, `TOLL-FREE`…
    pub number_type: Option<String>,
    /// ISO country.
    pub country: Option<String>,
}

/// A port-in request (numbers v1 `Porting/PortIn`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PortIn {
    /// `KW…`.
    pub port_in_request_sid: String,
    /// `pending`, `in-review`, `in-progress`, `completed`, `canceled`, `action-required`…
    pub port_in_request_status: Option<String>,
    /// The date Twilio targets (YYYY-MM-DD).
    pub target_port_in_date: Option<String>,
    /// Where the losing carrier's authorized person signs.
    pub signature_request_url: Option<String>,
    /// The numbers in the request.
    #[serde(default)]
    pub phone_numbers: Vec<PortInNumber>,
}

/// One number of a port-in request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PortInNumber {
    /// E.164.
    pub phone_number: Option<String>,
}

#[derive(Deserialize)]
struct PortInList {
    port_in_requests: Vec<PortInListed>,
}

#[derive(Deserialize)]
struct PortInListed {
    port_in_request_sid: String,
}

impl Client {
    fn messaging_url(&self, path: &str) -> String {
        format!("{}{path}", self.config.messaging_base.trim_end_matches('/'))
    }

    fn numbers_url(&self, path: &str) -> String {
        format!("{}{path}", self.config.numbers_base.trim_end_matches('/'))
    }

    /// Registers an A2P brand from the org's two approved Trust Hub bundles.
    ///
    /// Endpoint: `POST https://messaging.twilio.com/v1/a2p/BrandRegistrations`
    /// (`CustomerProfileBundleSid`, `A2PProfileBundleSid`). Sent once (a creation).
    ///
    /// Errors: [`TwilioError`].
    pub async fn create_brand_registration(
        &self,
        customer_profile_bundle_sid: &str,
        a2p_profile_bundle_sid: &str,
    ) -> Result<BrandRegistration, TwilioError> {
        let form = [
            (
                "CustomerProfileBundleSid",
                customer_profile_bundle_sid.to_owned(),
            ),
            ("A2PProfileBundleSid", a2p_profile_bundle_sid.to_owned()),
        ];
        let url = self.messaging_url("/v1/a2p/BrandRegistrations");
        decode(
            &self
                .send(Method::POST, &url, Some(&form), Retry::Once)
                .await?,
        )
    }

    /// A brand registration's current status.
    ///
    /// Endpoint: `GET https://messaging.twilio.com/v1/a2p/BrandRegistrations/{Sid}`.
    ///
    /// Errors: [`TwilioError`].
    pub async fn fetch_brand_registration(
        &self,
        sid: &str,
    ) -> Result<BrandRegistration, TwilioError> {
        let url = self.messaging_url(&format!("/v1/a2p/BrandRegistrations/{sid}"));
        decode(
            &self
                .send(Method::GET, &url, None, Retry::Idempotent)
                .await?,
        )
    }

    /// Registers the US A2P campaign of `brand_sid` on Messaging Service `service_sid`.
    ///
    /// Endpoint: `POST https://messaging.twilio.com/v1/Services/{MessagingServiceSid}/Compliance/Usa2p`
    /// (`BrandRegistrationSid`, `Description`, `MessageFlow`, `MessageSamples` repeated,
    /// `UsAppToPersonUsecase`, `HasEmbeddedLinks`, `HasEmbeddedPhone`). Sent once.
    ///
    /// Errors: [`TwilioError`].
    pub async fn create_us_app_to_person(
        &self,
        service_sid: &str,
        brand_sid: &str,
        c: &Campaign,
    ) -> Result<UsAppToPerson, TwilioError> {
        let mut form = vec![
            ("BrandRegistrationSid", brand_sid.to_owned()),
            ("Description", c.description.clone()),
            ("MessageFlow", c.message_flow.clone()),
            ("UsAppToPersonUsecase", c.use_case.clone()),
            ("HasEmbeddedLinks", c.has_embedded_links.to_string()),
            ("HasEmbeddedPhone", c.has_embedded_phone.to_string()),
        ];
        form.extend(
            c.message_samples
                .iter()
                .map(|m| ("MessageSamples", m.clone())),
        );
        let url = self.messaging_url(&format!("/v1/Services/{service_sid}/Compliance/Usa2p"));
        decode(
            &self
                .send(Method::POST, &url, Some(&form), Retry::Once)
                .await?,
        )
    }

    /// A campaign's current status.
    ///
    /// Endpoint: `GET https://messaging.twilio.com/v1/Services/{MessagingServiceSid}/Compliance/Usa2p/{Sid}`.
    ///
    /// Errors: [`TwilioError`].
    pub async fn fetch_us_app_to_person(
        &self,
        service_sid: &str,
        sid: &str,
    ) -> Result<UsAppToPerson, TwilioError> {
        let url = self.messaging_url(&format!(
            "/v1/Services/{service_sid}/Compliance/Usa2p/{sid}"
        ));
        decode(
            &self
                .send(Method::GET, &url, None, Retry::Idempotent)
                .await?,
        )
    }

    /// Orders SMS hosting of a number that stays with its voice carrier.
    ///
    /// Endpoint: `POST https://numbers.twilio.com/v2/HostedNumber/Orders` (`PhoneNumber`,
    /// `ContactPhoneNumber`, `AddressSid`, `Email`, `FriendlyName`, `SmsCapability=true`,
    /// `SmsUrl`, `SmsMethod=POST`). Sent once.
    ///
    /// Errors: [`TwilioError`].
    pub async fn create_hosted_number_order(
        &self,
        r: &HostedNumberRequest,
    ) -> Result<HostedNumberOrder, TwilioError> {
        let form = [
            ("PhoneNumber", r.phone_number.clone()),
            ("ContactPhoneNumber", r.contact_phone_number.clone()),
            ("AddressSid", r.address_sid.clone()),
            ("Email", r.email.clone()),
            ("FriendlyName", r.friendly_name.clone()),
            ("SmsCapability", "true".to_owned()),
            ("SmsUrl", r.sms_url.clone()),
            ("SmsMethod", "POST".to_owned()),
        ];
        let url = self.numbers_url("/v2/HostedNumber/Orders");
        decode(
            &self
                .send(Method::POST, &url, Some(&form), Retry::Once)
                .await?,
        )
    }

    /// A hosted-number order's current state.
    ///
    /// Endpoint: `GET https://numbers.twilio.com/v2/HostedNumber/Orders/{Sid}`.
    ///
    /// Errors: [`TwilioError`].
    pub async fn fetch_hosted_number_order(
        &self,
        sid: &str,
    ) -> Result<HostedNumberOrder, TwilioError> {
        let url = self.numbers_url(&format!("/v2/HostedNumber/Orders/{sid}"));
        decode(
            &self
                .send(Method::GET, &url, None, Retry::Idempotent)
                .await?,
        )
    }

    /// Deletes (cancels) a hosted-number order.
    ///
    /// Endpoint: `DELETE https://numbers.twilio.com/v2/HostedNumber/Orders/{Sid}`.
    ///
    /// Errors: [`TwilioError`].
    pub async fn delete_hosted_number_order(&self, sid: &str) -> Result<(), TwilioError> {
        let url = self.numbers_url(&format!("/v2/HostedNumber/Orders/{sid}"));
        self.send(Method::DELETE, &url, None, Retry::Idempotent)
            .await?;
        Ok(())
    }

    /// Whether `e164` can be ported in.
    ///
    /// Endpoint: `GET https://numbers.twilio.com/v1/Porting/Portability/PhoneNumber/{PhoneNumber}`.
    ///
    /// Errors: [`TwilioError`].
    pub async fn portability(&self, e164: &str) -> Result<Portability, TwilioError> {
        let n = e164.replace('+', "%2B");
        let url = self.numbers_url(&format!("/v1/Porting/Portability/PhoneNumber/{n}"));
        decode(
            &self
                .send(Method::GET, &url, None, Retry::Idempotent)
                .await?,
        )
    }

    /// Creates a port-in request; `body` is the JSON of numbers v1 `CreatePortingPortIn`
    /// (`account_sid`, `documents`, `losing_carrier_information`, `phone_numbers`,
    /// `notification_emails`, `target_port_in_date`…). Sent once.
    ///
    /// Endpoint: `POST https://numbers.twilio.com/v1/Porting/PortIn` (JSON).
    ///
    /// Errors: [`TwilioError`].
    pub async fn create_port_in(&self, body: &serde_json::Value) -> Result<PortIn, TwilioError> {
        let url = self.numbers_url("/v1/Porting/PortIn");
        decode(
            &self
                .send_json(Method::POST, &url, body, Retry::Once)
                .await?,
        )
    }

    /// The SIDs of the port-in requests created on or after `date` (YYYY-MM-DD), first page (up
    /// to 100).
    ///
    /// Endpoint: `GET https://numbers.twilio.com/v1/Porting/PortIn/PortInRequests?CreatedAfter=…&Size=100`.
    ///
    /// Errors: [`TwilioError`].
    pub async fn list_port_ins_created_after(
        &self,
        date: &str,
    ) -> Result<Vec<String>, TwilioError> {
        let q = crate::encode(&[("CreatedAfter", date), ("Size", "100")]);
        let url = self.numbers_url(&format!("/v1/Porting/PortIn/PortInRequests?{q}"));
        let list: PortInList = decode(
            &self
                .send(Method::GET, &url, None, Retry::Idempotent)
                .await?,
        )?;
        Ok(list
            .port_in_requests
            .into_iter()
            .map(|p| p.port_in_request_sid)
            .collect())
    }

    /// Cancels a port-in request.
    ///
    /// Endpoint: `DELETE https://numbers.twilio.com/v1/Porting/PortIn/{PortInRequestSid}`.
    ///
    /// Errors: [`TwilioError`].
    pub async fn cancel_port_in(&self, sid: &str) -> Result<(), TwilioError> {
        let url = self.numbers_url(&format!("/v1/Porting/PortIn/{sid}"));
        self.send(Method::DELETE, &url, None, Retry::Idempotent)
            .await?;
        Ok(())
    }

    /// A port-in request's current state.
    ///
    /// Endpoint: `GET https://numbers.twilio.com/v1/Porting/PortIn/{PortInRequestSid}`.
    ///
    /// Errors: [`TwilioError`].
    pub async fn fetch_port_in(&self, sid: &str) -> Result<PortIn, TwilioError> {
        let url = self.numbers_url(&format!("/v1/Porting/PortIn/{sid}"));
        decode(
            &self
                .send(Method::GET, &url, None, Retry::Idempotent)
                .await?,
        )
    }
}

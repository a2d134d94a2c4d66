//! What an onboarding asks for and how the number is searched (pure: no I/O): the request
//! checked field by field ([`validate`]), the search from area code to region to country
//! ([`search_plan`]), and the webhook URLs a number is bound to ([`webhook_fields`]).

use serde::{Deserialize, Serialize};
use telephony_core::routes::Route;
use telephony_core::E164;
use twilio_api::numbers::{NumberFields, NumberSearch};

/// `POST /ops/numbers/onboard` body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OnboardRequest {
    /// The client organisation (`[a-z0-9-]`, 1–64).
    pub org_id: String,
    /// Spoken in the greeting.
    pub business_name: String,
    /// `CA` or `US`.
    pub country: String,
    /// Three-digit area code wanted (NANP).
    pub area_code: Option<String>,
    /// Sales line, E.164.
    pub sales_target: Option<String>,
    /// Support line, E.164.
    pub support_target: Option<String>,
    /// `en-CA`, `en-US` or `fr-CA`.
    pub language: Option<String>,
}

/// A validated onboarding request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardPlan {
    /// Org id.
    pub org_id: String,
    /// Business name.
    pub business_name: String,
    /// `CA` or `US`.
    pub country: &'static str,
    /// Area code.
    pub area_code: Option<String>,
    /// Sales line.
    pub sales_target: Option<E164>,
    /// Support line.
    pub support_target: Option<E164>,
    /// Language.
    pub language: String,
}

/// A business name as spoken in the greeting: 1–100 characters XML can carry, trimmed.
pub(crate) fn check_business_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > 100
        || !name.chars().all(telephony_core::twiml::is_xml_char)
    {
        return Err("business_name must be 1-100 characters XML can carry".into());
    }
    Ok(name.to_owned())
}

/// The prompt languages the flows speak.
const LANGUAGES: [&str; 3] = ["en-CA", "en-US", "fr-CA"];

pub(crate) fn check_language(l: &str) -> Result<(), String> {
    if LANGUAGES.contains(&l) {
        Ok(())
    } else {
        Err("language must be en-CA, en-US or fr-CA".into())
    }
}

/// A target line `k`: E.164 syntax (the numbering plan is checked where operators prepare
/// numbers: libphonenumber stays out of the bootstraps).
pub(crate) fn check_target(k: &str, v: &str) -> Result<E164, String> {
    let n = E164::parse_syntax(v).map_err(|e| format!("{k}: {e}"))?;
    // Issue 22 §14: a number that cannot be dialled is refused, naming the field.
    n.check_dialable().map_err(|e| format!("{k}: {e}"))?;
    Ok(n)
}

/// An org id: 1–64 of `a-z`, `0-9` and `-` (it is part of DynamoDB keys: `lock#<org>`,
/// `org#<org>`, `<org>#<caller>`).
///
/// Errors: a message saying so.
pub use telephony_core::ids::check_org_id;

/// Checks an onboarding request (pure).
///
/// Errors: a message naming the first bad field: an org id outside `[a-z0-9-]{1,64}`, an empty
/// or over-100-character business name, a country other than CA/US, an area code that is not
/// three digits starting 2–9 (NANP), a target that is not E.164, an unsupported language.
pub fn validate(r: &OnboardRequest) -> Result<OnboardPlan, String> {
    check_org_id(&r.org_id)?;
    let business_name = check_business_name(&r.business_name)?;
    let country = match r.country.as_str() {
        "CA" => "CA",
        "US" => "US",
        _ => return Err("country must be CA or US".into()),
    };
    if let Some(a) = &r.area_code {
        let b = a.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) || !(b'2'..=b'9').contains(&b[0]) {
            return Err("area_code must be three digits, the first 2-9".into());
        }
    }
    let target = |k: &str, v: &Option<String>| v.as_deref().map(|s| check_target(k, s)).transpose();
    let language = r.language.clone().unwrap_or_else(|| match country {
        "US" => "en-US".into(),
        _ => "en-CA".into(),
    });
    check_language(&language)?;
    Ok(OnboardPlan {
        org_id: r.org_id.clone(),
        business_name,
        country,
        area_code: r.area_code.clone(),
        sales_target: target("sales_target", &r.sales_target)?,
        support_target: target("support_target", &r.support_target)?,
        language,
    })
}

/// The webhooks every number of ours is bound to, all POST, under `base` (`PUBLIC_BASE_URL`).
/// Twilio numbers have no SMS status callback field: delivery status comes per message or from
/// the Messaging Service.
pub fn webhook_fields(base: &str, friendly_name: Option<&str>) -> NumberFields {
    let post = || Some("POST".to_owned());
    NumberFields {
        friendly_name: friendly_name.map(str::to_owned),
        voice_url: Some(Route::Frontdoor.url(base, &[])),
        voice_method: post(),
        voice_fallback_url: Some(Route::Fallback.url(base, &[])),
        voice_fallback_method: post(),
        status_callback: Some(Route::Status.url(base, &[])),
        status_callback_method: post(),
        sms_url: Some(Route::SmsReply.callback_url(base, &[])),
        sms_method: post(),
        sms_fallback_url: None,
        sms_fallback_method: None,
    }
}

/// The searches an onboarding tries in order, until one finds numbers: the area code; the
/// province/state it serves (`InRegion`, when [`telephony_core::area_codes`] knows it); the
/// whole country. Each asks for voice- and SMS-capable local numbers, 5 per page. Pure.
///
/// Returns `(matched_by, region, search)` triples; `matched_by` is `area_code`, `region` or
/// `country`.
pub fn search_plan(
    country: &'static str,
    area_code: Option<&str>,
) -> Vec<(&'static str, Option<&'static str>, NumberSearch)> {
    let base = NumberSearch {
        sms_enabled: Some(true),
        voice_enabled: Some(true),
        page_size: Some(5),
        ..Default::default()
    };
    let mut plan = Vec::new();
    if let Some(a) = area_code {
        plan.push((
            "area_code",
            None,
            NumberSearch {
                area_code: Some(a.to_owned()),
                ..base.clone()
            },
        ));
        if let Some(region) = telephony_core::area_codes::region_of(country, a) {
            plan.push((
                "region",
                Some(region),
                NumberSearch {
                    in_region: Some(region.to_owned()),
                    ..base.clone()
                },
            ));
        }
    }
    plan.push(("country", None, base));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> OnboardRequest {
        OnboardRequest {
            org_id: "acme".into(),
            business_name: "Acme Plumbing".into(),
            country: "CA".into(),
            area_code: Some("587".into()),
            sales_target: Some("+14165550101".into()),
            support_target: None,
            language: None,
        }
    }

    #[test]
    fn requests_are_validated() {
        let p = validate(&req()).unwrap();
        assert_eq!((p.country, p.language.as_str()), ("CA", "en-CA"));
        let bad = |f: fn(&mut OnboardRequest), what: &str| {
            let mut r = req();
            f(&mut r);
            let e = validate(&r).unwrap_err();
            assert!(e.contains(what), "{e}");
        };
        bad(|r| r.org_id = "Acme Inc".into(), "org_id");
        bad(|r| r.country = "FR".into(), "country");
        bad(|r| r.area_code = Some("5a7".into()), "area_code");
        bad(|r| r.area_code = Some("187".into()), "area_code");
        bad(
            |r| r.sales_target = Some("416-555-0101".into()),
            "sales_target",
        );
        bad(|r| r.business_name = " ".into(), "business_name");
        bad(|r| r.language = Some("de-DE".into()), "language");
    }

    #[test]
    fn the_search_falls_back_from_area_code_to_region_to_country() {
        let plan = search_plan("CA", Some("587"));
        let steps: Vec<_> = plan.iter().map(|(by, r, _)| (*by, *r)).collect();
        assert_eq!(
            steps,
            [
                ("area_code", None),
                ("region", Some("AB")),
                ("country", None)
            ]
        );
        assert_eq!(plan[0].2.area_code.as_deref(), Some("587"));
        assert_eq!(plan[0].2.in_region, None);
        assert_eq!(plan[1].2.in_region.as_deref(), Some("AB"));
        assert_eq!(plan[1].2.area_code, None);
        assert_eq!(
            (plan[2].2.area_code.clone(), plan[2].2.in_region.clone()),
            (None, None)
        );
        assert!(plan
            .iter()
            .all(|(_, _, q)| q.sms_enabled == Some(true) && q.voice_enabled == Some(true)));
        // An area code of no single region (867: three territories): straight to the country.
        let by: Vec<_> = search_plan("CA", Some("867")).iter().map(|p| p.0).collect();
        assert_eq!(by, ["area_code", "country"]);
        let by: Vec<_> = search_plan("US", None).iter().map(|p| p.0).collect();
        assert_eq!(by, ["country"]);
    }

    #[test]
    fn webhooks_point_at_this_stack_with_post() {
        let f = webhook_fields("https://api.example", Some("Acme (acme)"));
        assert_eq!(
            f.voice_url.as_deref(),
            Some("https://api.example/voice-frontdoor")
        );
        assert_eq!(
            f.sms_url.as_deref(),
            Some("https://api.example/webcomms-sms-reply#rc=3&rp=all"),
            "the Messaging URL asks Twilio to retry a 503 (an unrecorded opt-out)"
        );
        assert_eq!(
            f.status_callback.as_deref(),
            Some("https://api.example/voice-status")
        );
        assert_eq!(
            f.voice_fallback_url.as_deref(),
            Some("https://api.example/voice-fallback")
        );
        assert!(f
            .form()
            .iter()
            .filter(|(k, _)| k.ends_with("Method"))
            .all(|(_, v)| v == "POST"));
    }
}

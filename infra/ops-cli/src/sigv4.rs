//! AWS Signature Version 4 for API Gateway (`execute-api`), on the `aws-sigv4` crate.
//!
//! Verification follows what AWS does with a signed request (AWS docs, "Signature Version 4
//! signing process" and "Troubleshoot: IAM-authorized API Gateway requests"): parse the
//! `Authorization` header (`AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request,
//! SignedHeaders=…, Signature=…`), look the access key up, refuse a request dated more than 15
//! minutes from now, rebuild the canonical request from the method, path, query, the headers
//! listed in `SignedHeaders` and the body, sign it with the key's secret at the request's own
//! `X-Amz-Date`, and compare the two signatures in constant time.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign as sign_request, SignableBody, SignableRequest, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use std::time::{Duration, SystemTime};
use subtle::ConstantTimeEq;

/// The service name API Gateway signs for.
pub const SERVICE: &str = "execute-api";
/// How far a request's `X-Amz-Date` may be from the verifier's clock: 15 minutes (AWS's limit).
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Why a signature was refused (API Gateway answers 403 to each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No `Authorization` header: `Missing Authentication Token`.
    Missing,
    /// The header is not a SigV4 header, or `X-Amz-Date` is missing or malformed.
    Malformed(String),
    /// The access key is not known.
    UnknownKey,
    /// Signed for another service (not `execute-api`) or region.
    WrongScope(String),
    /// Dated more than [`MAX_SKEW`] from now.
    Expired,
    /// The signature does not match (wrong secret, or the request was changed).
    Mismatch,
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denied::Missing => write!(f, "Missing Authentication Token"),
            Denied::Malformed(m) => write!(f, "malformed SigV4 request: {m}"),
            Denied::UnknownKey => {
                write!(f, "The security token included in the request is invalid.")
            }
            Denied::WrongScope(m) => write!(f, "credential scope not accepted: {m}"),
            Denied::Expired => write!(
                f,
                "Signature expired: the request is dated more than 15 minutes from now."
            ),
            Denied::Mismatch => write!(
                f,
                "The request signature we calculated does not match the signature you provided."
            ),
        }
    }
}

/// An identity the verifier knows: an access key, its secret, and the ARN API Gateway reports
/// as `requestContext.authorizer.iam.userArn`.
#[derive(Clone)]
pub struct KnownKey {
    /// `AKIA…`.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// `arn:aws:iam::<account>:user/<name>`.
    pub user_arn: String,
}

/// Who a verified request came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The access key used.
    pub access_key_id: String,
    /// The key's user ARN.
    pub user_arn: String,
}

fn signing_time(s: &str) -> Option<SystemTime> {
    let t = chrono::NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ").ok()?;
    let secs = u64::try_from(t.and_utc().timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

fn signature_of(
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: &[u8],
    credentials: Credentials,
    region: &str,
    time: SystemTime,
) -> Result<(String, Vec<(String, String)>), String> {
    let identity: Identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new(
        method,
        uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, signature) = sign_request(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    let added = instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Ok((signature, added))
}

/// Signs a request for `execute-api` in `region` at `time`: returns the headers to add
/// (`authorization`, `x-amz-date`, and `x-amz-security-token` for temporary credentials).
/// `uri` is the full URL; `headers` must include `host` and every header that will be sent and
/// should be signed (e.g. `content-type`, `idempotency-key`, `if-match`).
///
/// Errors: a message when the URL or a header cannot be signed.
pub fn sign(
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: &[u8],
    credentials: Credentials,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    signature_of(method, uri, headers, body, credentials, region, time).map(|(_, h)| h)
}

/// Verifies a received request against `keys` and `region` at `now`. `headers` are the received
/// headers (names in any case); `uri` the request's URL (any scheme and host: the canonical
/// request uses the path, the query and the signed headers).
///
/// Errors: [`Denied`].
pub fn verify(
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: &[u8],
    keys: &[KnownKey],
    region: &str,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let auth = header("authorization").ok_or(Denied::Missing)?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| Denied::Malformed("not AWS4-HMAC-SHA256".into()))?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(Denied::Malformed(
            "Credential, SignedHeaders and Signature are required".into(),
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, date, scope_region, service, "aws4_request"] = scope.as_slice() else {
        return Err(Denied::Malformed("bad credential scope".into()));
    };
    if *service != SERVICE || *scope_region != region {
        return Err(Denied::WrongScope(format!("{scope_region}/{service}")));
    }
    let key = keys
        .iter()
        .find(|k| k.access_key_id == *key_id)
        .ok_or(Denied::UnknownKey)?;
    let amz_date = header("x-amz-date").ok_or_else(|| Denied::Malformed("no X-Amz-Date".into()))?;
    let time = signing_time(amz_date)
        .ok_or_else(|| Denied::Malformed("X-Amz-Date is not YYYYMMDDTHHMMSSZ".into()))?;
    if !amz_date.starts_with(date) {
        return Err(Denied::Malformed("scope date is not X-Amz-Date's".into()));
    }
    let skew = now.duration_since(time).unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(Denied::Expired);
    }
    let signed: Vec<&str> = signed_headers.split(';').collect();
    let kept: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            signed.contains(&k.as_str()) && k != "authorization"
        })
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let credentials = Credentials::new(
        key.access_key_id.clone(),
        key.secret_access_key.clone(),
        header("x-amz-security-token").map(str::to_owned),
        None,
        "local-iam-gateway",
    );
    let (expected, _) = signature_of(method, uri, &kept, body, credentials, region, time)
        .map_err(Denied::Malformed)?;
    if bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        Ok(Principal {
            access_key_id: key.access_key_id.clone(),
            user_arn: key.user_arn.clone(),
        })
    } else {
        Err(Denied::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:9100/ops/numbers/%2B15875550100/config";

    fn key() -> KnownKey {
        KnownKey {
            access_key_id: "AKIALOCALOPERATOR000".into(),
            secret_access_key: "s3cr3t".into(),
            user_arn: "arn:aws:iam::000000000000:user/local-operator".into(),
        }
    }

    fn creds(secret: &str) -> Credentials {
        Credentials::new("AKIALOCALOPERATOR000", secret, None, None, "test")
    }

    fn signed(secret: &str, body: &[u8], at: SystemTime) -> Vec<(String, String)> {
        let mut headers = vec![
            ("host".to_owned(), "127.0.0.1:9100".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
            ("if-match".to_owned(), "3".to_owned()),
        ];
        let added = sign(
            "PUT",
            URL,
            &headers,
            body,
            creds(secret),
            "ca-central-1",
            at,
        )
        .unwrap();
        headers.extend(added);
        // What a client adds after signing, unsigned.
        headers.push(("user-agent".to_owned(), "curl".to_owned()));
        headers
    }

    fn check(
        headers: &[(String, String)],
        body: &[u8],
        now: SystemTime,
    ) -> Result<Principal, Denied> {
        verify("PUT", URL, headers, body, &[key()], "ca-central-1", now)
    }

    #[test]
    fn a_signed_request_verifies_as_its_key() {
        let now = SystemTime::now();
        let h = signed("s3cr3t", b"{\"language\":\"fr-CA\"}", now);
        let p = check(&h, b"{\"language\":\"fr-CA\"}", now).unwrap();
        assert_eq!(p.user_arn, "arn:aws:iam::000000000000:user/local-operator");
    }

    #[test]
    fn every_tampering_is_refused() {
        let now = SystemTime::now();
        let body = b"{\"language\":\"fr-CA\"}";
        let h = signed("s3cr3t", body, now);
        // Another body, another signed header value, another secret, no header, old date.
        assert_eq!(
            check(&h, b"{\"language\":\"en-CA\"}", now),
            Err(Denied::Mismatch)
        );
        let mut changed = h.clone();
        changed.iter_mut().find(|(k, _)| k == "if-match").unwrap().1 = "4".into();
        assert_eq!(check(&changed, body, now), Err(Denied::Mismatch));
        assert_eq!(
            check(&signed("guess", body, now), body, now),
            Err(Denied::Mismatch)
        );
        let anonymous: Vec<_> = h
            .iter()
            .filter(|(k, _)| k != "authorization")
            .cloned()
            .collect();
        assert_eq!(check(&anonymous, body, now), Err(Denied::Missing));
        let later = now + Duration::from_secs(16 * 60);
        assert_eq!(check(&h, body, later), Err(Denied::Expired));
        // An unknown key, another service.
        let mut other = h.clone();
        let auth = &mut other
            .iter_mut()
            .find(|(k, _)| k == "authorization")
            .unwrap()
            .1;
        *auth = auth.replace("AKIALOCALOPERATOR000", "AKIASOMEONEELSE00000");
        assert_eq!(check(&other, body, now), Err(Denied::UnknownKey));
        let mut s3 = h.clone();
        let auth = &mut s3.iter_mut().find(|(k, _)| k == "authorization").unwrap().1;
        *auth = auth.replace("/execute-api/", "/s3/");
        assert!(matches!(check(&s3, body, now), Err(Denied::WrongScope(_))));
    }
}

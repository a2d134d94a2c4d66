//! The tenant API's token check: an RS256 JWT (a Cognito ID token) verified here against the
//! issuer's JWKS — signature, `exp`, `nbf`, `iss`, `aud` — with the org in a custom claim. The
//! JWKS is fetched once and cached; a token naming an unknown `kid` refetches it, at most once a
//! minute (key rotation without letting random kids hammer the issuer).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Who called, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The org claim (`[a-z0-9-]{1,64}`).
    pub org: String,
    /// `sub`.
    pub subject: String,
    /// `custom:org_name`, if given (the business name of a first forwarding number).
    pub org_name: Option<String>,
    /// `locale` (`fr`, `fr-CA` → the kit in French).
    pub locale: Option<String>,
}

/// Why a token was refused (all answered 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Not a JWT, or not RS256, or no `kid`.
    #[error("malformed token")]
    Malformed,
    /// No key with its `kid` at the issuer.
    #[error("unknown signing key")]
    UnknownKey,
    /// The JWKS could not be fetched.
    #[error("signing keys unavailable")]
    KeysUnavailable,
    /// Signature, `exp`, `nbf`, `iss` or `aud` failed.
    #[error("token refused: {0}")]
    Invalid(String),
    /// No usable org claim.
    #[error("token has no org claim")]
    NoOrg,
}

/// The verifier and its key cache.
pub struct Auth {
    issuer: String,
    audience: String,
    jwks_url: String,
    org_claim: String,
    http: reqwest::Client,
    keys: Mutex<(Option<Instant>, HashMap<String, DecodingKey>)>,
}

/// How soon an unknown `kid` may refetch the JWKS.
pub const REFETCH_AFTER: Duration = Duration::from_secs(60);

impl Auth {
    /// A verifier for tokens of `issuer` for `audience` (the app client id), keys from
    /// `jwks_url` (Cognito: `{issuer}/.well-known/jwks.json`), org in claim `org_claim`.
    /// Installs [`crate::jwt_crypto`] as the process's JWT provider.
    pub fn new(issuer: &str, audience: &str, jwks_url: &str, org_claim: &str) -> Self {
        crate::jwt_crypto::install();
        Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            jwks_url: jwks_url.to_owned(),
            org_claim: org_claim.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()
                .unwrap_or_default(),
            keys: Mutex::new((None, HashMap::new())),
        }
    }

    /// From `JWT_ISSUER`, `JWT_AUDIENCE`, `JWKS_URL` (default `{issuer}/.well-known/jwks.json`),
    /// `ORG_CLAIM` (default `custom:org_id`).
    ///
    /// Errors: a message naming a missing variable.
    pub fn load(env: &telephony_aws::Env<'_>) -> Result<Self, telephony_aws::ConfigError> {
        let var = |k: &str| env.get(k);
        let issuer = env.required("JWT_ISSUER")?;
        let audience = env.required("JWT_AUDIENCE")?;
        let jwks = var("JWKS_URL")
            .unwrap_or_else(|| format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')));
        let claim = var("ORG_CLAIM").unwrap_or_else(|| "custom:org_id".into());
        Ok(Self::new(&issuer, &audience, &jwks, &claim))
    }

    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.lock().ok()?.1.get(kid).cloned()
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if let Some(k) = self.cached(kid) {
            return Ok(k);
        }
        let may_fetch = self
            .keys
            .lock()
            .map(|g| g.0.is_none_or(|at| at.elapsed() >= REFETCH_AFTER))
            .unwrap_or(false);
        if !may_fetch {
            return Err(AuthError::UnknownKey);
        }
        let set: JwkSet = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .map_err(|_| AuthError::KeysUnavailable)?
            .json()
            .await
            .map_err(|_| AuthError::KeysUnavailable)?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            if let (Some(id), Ok(k)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) {
                keys.insert(id, k);
            }
        }
        if let Ok(mut g) = self.keys.lock() {
            *g = (Some(Instant::now()), keys);
        }
        self.cached(kid).ok_or(AuthError::UnknownKey)
    }

    /// Verifies `token` at `now` (Unix seconds; `exp`/`nbf` use the clock, no leeway beyond 30 s).
    ///
    /// Errors: [`AuthError`].
    pub async fn verify(&self, token: &str, _now: u64) -> Result<User, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Malformed);
        }
        let kid = header.kid.ok_or(AuthError::Malformed)?;
        let key = self.key(&kid).await?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.validate_nbf = true;
        v.leeway = 30;
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = decode::<serde_json::Value>(token, &key, &v)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        let claims = data.claims;
        let org = claims[self.org_claim.as_str()]
            .as_str()
            .filter(|o| telephony_core::ids::check_org_id(o).is_ok())
            .ok_or(AuthError::NoOrg)?
            .to_owned();
        Ok(User {
            org,
            subject: claims["sub"].as_str().unwrap_or("").to_owned(),
            org_name: claims["custom:org_name"].as_str().map(str::to_owned),
            locale: claims["locale"].as_str().map(str::to_owned),
        })
    }
}

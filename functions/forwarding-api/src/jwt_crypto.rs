//! `jsonwebtoken`'s cryptography on ring, for the one algorithm the tenant API accepts (RS256,
//! RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with SHA-256; Cognito signs its ID tokens so).
//!
//! ring is already in every bootstrap (it is rustls' provider); `jsonwebtoken`'s own
//! `rust_crypto` backend would add the RustCrypto RSA, ECDSA and Ed25519 crates (~300 KB of the
//! bootstrap, issue 23) for algorithms [`crate::auth`] refuses anyway. Installed process-wide by
//! [`install`]; any other algorithm is refused with `InvalidAlgorithm`. Signing is there for the
//! local token issuer and the tests, which make their tokens with `jsonwebtoken::encode`.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature;
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::signature::{
    RsaKeyPair, RsaPublicKeyComponents, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_SHA256,
};

/// The provider: RS256 signing (PKCS#1 DER private key) and verification (PKCS#1 DER public key,
/// or a JWK's modulus and exponent); SHA-2 digests for JWK thumbprints.
pub static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(ErrorKind::InvalidAlgorithm.into()),
        rsa_pub_components_from_public_key: |_| Err(ErrorKind::InvalidAlgorithm.into()),
        ec_pub_components_from_private_key: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
        ed_pub_components_from_private_key: |_: &[u8], _: &EllipticCurve| {
            Err(ErrorKind::InvalidAlgorithm.into())
        },
        compute_digest: digest,
    },
};

/// Makes [`PROVIDER`] the process's `jsonwebtoken` provider; a no-op when one is already set
/// (a test process whose first token was made before).
pub fn install() {
    let _ = PROVIDER.install_default();
}

fn digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, Error> {
    let alg = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(ring::digest::digest(alg, data).as_ref().to_vec())
}

struct Rs256Signer(RsaKeyPair);

impl signature::Signer<Vec<u8>> for Rs256Signer {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut sig = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                msg,
                &mut sig,
            )
            .map_err(|_| signature::Error::new())?;
        Ok(sig)
    }
}

impl JwtSigner for Rs256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

fn signer(alg: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    if *alg != Algorithm::RS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let pair = RsaKeyPair::from_der(key.as_bytes())
        .map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?;
    Ok(Box::new(Rs256Signer(pair)))
}

enum Rs256Verifier {
    /// PKCS#1 `RSAPublicKey` DER.
    Der(Vec<u8>),
    /// A JWK's `n` and `e`, big-endian.
    Components { n: Vec<u8>, e: Vec<u8> },
}

impl signature::Verifier<Vec<u8>> for Rs256Verifier {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
        let checked = match self {
            Self::Der(der) => {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).verify(msg, sig)
            }
            Self::Components { n, e } => {
                RsaPublicKeyComponents { n, e }.verify(&RSA_PKCS1_2048_8192_SHA256, msg, sig)
            }
        };
        checked.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for Rs256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

fn verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    if *alg != Algorithm::RS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(match key.kind() {
        DecodingKeyKind::SecretOrDer(der) => Rs256Verifier::Der(der.clone()),
        DecodingKeyKind::RsaModulusExponent { n, e } => Rs256Verifier::Components {
            n: n.clone(),
            e: e.clone(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER as REFERENCE;

    /// The tests' RSA-2048 key (PKCS#1 DER private key, `tests/fixtures`) and its public key
    /// (PKCS#1 DER `RSAPublicKey`, as ring gives it).
    fn key_pair() -> (Vec<u8>, Vec<u8>) {
        let private = include_bytes!("../../../tests/fixtures/jwt-test-key.der").to_vec();
        let public = RsaKeyPair::from_der(&private)
            .expect("test key")
            .public()
            .as_ref()
            .to_vec();
        (private, public)
    }

    #[test]
    fn agrees_with_the_rust_crypto_backend_both_ways_and_refuses_a_changed_message() {
        let (private, public) = key_pair();
        let (enc, dec) = (
            EncodingKey::from_rsa_der(&private),
            DecodingKey::from_rsa_der(&public),
        );
        let msg = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0".to_vec();
        let ours = (PROVIDER.signer_factory)(&Algorithm::RS256, &enc).unwrap();
        let theirs = (REFERENCE.signer_factory)(&Algorithm::RS256, &enc).unwrap();
        let (sig_ours, sig_theirs) = (ours.try_sign(&msg).unwrap(), theirs.try_sign(&msg).unwrap());
        // PKCS#1 v1.5 is deterministic: the same key and message give the same signature.
        assert_eq!(sig_ours, sig_theirs);
        let verify = |p: &CryptoProvider, m: &[u8], s: &Vec<u8>| {
            (p.verifier_factory)(&Algorithm::RS256, &dec)
                .unwrap()
                .verify(m, s)
                .is_ok()
        };
        assert!(verify(&PROVIDER, &msg, &sig_theirs));
        assert!(verify(&REFERENCE, &msg, &sig_ours));
        assert!(!verify(
            &PROVIDER,
            b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ5In0",
            &sig_theirs
        ));
        let mut bad = sig_theirs.clone();
        bad[10] ^= 1;
        assert!(!verify(&PROVIDER, &msg, &bad));
    }

    #[test]
    fn verifies_by_jwk_components_and_refuses_other_algorithms() {
        let (private, public) = key_pair();
        let enc = EncodingKey::from_rsa_der(&private);
        let msg = b"header.claims".to_vec();
        let sig = (REFERENCE.signer_factory)(&Algorithm::RS256, &enc)
            .unwrap()
            .try_sign(&msg)
            .unwrap();
        // n and e as a JWK carries them (what Cognito's JWKS gives).
        let (n, e) = (REFERENCE.key_utils.rsa_pub_components_from_public_key)(&public).unwrap();
        let jwk = DecodingKey::from_rsa_raw_components(&n, &e);
        let v = (PROVIDER.verifier_factory)(&Algorithm::RS256, &jwk).unwrap();
        assert!(v.verify(&msg, &sig).is_ok());
        assert!(v.verify(b"header.other", &sig).is_err());
        for alg in [
            Algorithm::HS256,
            Algorithm::RS512,
            Algorithm::ES256,
            Algorithm::EdDSA,
        ] {
            assert!((PROVIDER.verifier_factory)(&alg, &jwk).is_err(), "{alg:?}");
            assert!((PROVIDER.signer_factory)(&alg, &enc).is_err(), "{alg:?}");
        }
    }
}

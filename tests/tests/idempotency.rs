//! Idempotency keys of the ops API against a real DynamoDB API (moto): the claim, replay,
//! in-flight, changed-body, stale-claim, expiry and release cases of spec §5, and a burst of
//! concurrent requests with one key (a double click) where exactly one runs.

use integration_tests::stack;
use provisioning::idempotency::{
    payload_hash, Claim, Idempotency, IdempotencyKey, StoredResponse, IN_PROGRESS_LEASE_MS,
    RETENTION_SECS,
};

const NOW_MS: u64 = 1_795_000_000_000;

#[tokio::test]
async fn keys_run_once_replay_and_refuse_changed_bodies() {
    let s = stack(&[]).await;
    let table = &s.resources["IdempotencyTable"];
    let idem = Idempotency::new(s.deps.dynamo(), table);
    let key = IdempotencyKey::parse("onboard-acme-1").unwrap();
    let scope = "arn:aws:iam::123456789012:user/ops#POST /ops/numbers/onboard";
    let h = payload_hash(br#"{"org_id":"acme"}"#);

    assert_eq!(
        idem.claim(scope, &key, &h, NOW_MS).await.unwrap(),
        Claim::Fresh
    );
    assert_eq!(
        idem.claim(scope, &key, &h, NOW_MS + 5).await.unwrap(),
        Claim::InFlight
    );
    let other = payload_hash(br#"{"org_id":"other"}"#);
    assert_eq!(
        idem.claim(scope, &key, &other, NOW_MS + 5).await.unwrap(),
        Claim::Mismatch
    );
    // Another principal's identical key is its own.
    assert_eq!(
        idem.claim("someone-else#POST /x", &key, &h, NOW_MS)
            .await
            .unwrap(),
        Claim::Fresh
    );

    let done = StoredResponse {
        status: 201,
        body: r#"{"e164":"+15875550100"}"#.into(),
    };
    idem.complete(scope, &key, &done).await.unwrap();
    assert_eq!(
        idem.claim(scope, &key, &h, NOW_MS + 10).await.unwrap(),
        Claim::Replay(done.clone())
    );
    assert_eq!(
        idem.claim(scope, &key, &other, NOW_MS + 10).await.unwrap(),
        Claim::Mismatch
    );
    // A stored response is not run again within the lease or after it, only after 24 h.
    let later = NOW_MS + IN_PROGRESS_LEASE_MS + 1;
    assert_eq!(
        idem.claim(scope, &key, &h, later).await.unwrap(),
        Claim::Replay(done)
    );
    let expired = NOW_MS + (RETENTION_SECS + 2) * 1000;
    assert_eq!(
        idem.claim(scope, &key, &h, expired).await.unwrap(),
        Claim::Fresh
    );

    // A claim whose run crashed is taken over once its lease is past, not before.
    let crashed = IdempotencyKey::parse("crashed").unwrap();
    assert_eq!(
        idem.claim(scope, &crashed, &h, NOW_MS).await.unwrap(),
        Claim::Fresh
    );
    assert_eq!(
        idem.claim(scope, &crashed, &h, NOW_MS + IN_PROGRESS_LEASE_MS - 1)
            .await
            .unwrap(),
        Claim::InFlight
    );
    assert_eq!(
        idem.claim(scope, &crashed, &h, NOW_MS + IN_PROGRESS_LEASE_MS + 1)
            .await
            .unwrap(),
        Claim::Fresh
    );

    // A released key (the run failed with a 5xx) runs again.
    idem.release(scope, &crashed).await.unwrap();
    assert_eq!(
        idem.claim(scope, &crashed, &h, NOW_MS + IN_PROGRESS_LEASE_MS + 2)
            .await
            .unwrap(),
        Claim::Fresh
    );
}

#[tokio::test]
async fn a_double_click_runs_once() {
    let s = stack(&[]).await;
    let table = s.resources["IdempotencyTable"].clone();
    let key = IdempotencyKey::parse("double-click").unwrap();
    let h = payload_hash(b"{}");
    let claims = futures_join(s.deps.dynamo(), &table, &key, &h).await;
    let fresh = claims.iter().filter(|c| **c == Claim::Fresh).count();
    let in_flight = claims.iter().filter(|c| **c == Claim::InFlight).count();
    assert_eq!((fresh, in_flight), (1, claims.len() - 1), "{claims:?}");
}

async fn futures_join(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &IdempotencyKey,
    h: &str,
) -> Vec<Claim> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..8u64 {
        let (dynamo, table, key, h) = (dynamo.clone(), table.to_owned(), key.clone(), h.to_owned());
        set.spawn(async move {
            Idempotency::new(&dynamo, &table)
                .claim("ops#POST /ops/numbers/onboard", &key, &h, NOW_MS + i)
                .await
                .unwrap()
        });
    }
    set.join_all().await
}

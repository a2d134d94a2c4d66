//! The AWS endpoints over TLS (issue 26): the SDK clients trust exactly their configured roots —
//! the Amazon Trust Services roots by default, `AWS_CA_BUNDLE`'s when set — and keep their
//! connection between calls. Checked against moto behind the bench's TLS front, with a chain
//! generated for this run.

use integration_tests::bench::tls::{Pki, TlsFront};
use integration_tests::*;
use telephony_aws::deps::{AwsTarget, AWS_ROOTS};

fn target(endpoint: &str, roots: String) -> AwsTarget {
    AwsTarget {
        region: "ca-central-1".into(),
        endpoint_url: Some(endpoint.into()),
        credentials: aws_credential_types::Credentials::new("testing", "testing", None, None, "t"),
        trusted_roots: roots.into(),
    }
}

#[tokio::test]
async fn the_sdk_trusts_its_configured_roots_and_no_others() {
    let dir = std::env::temp_dir().join(format!("tradeline-tls-test-{}", std::process::id()));
    let pki = Pki::generate(&dir).expect("certificates");
    let front = TlsFront::start(&pki, moto_endpoint()).await.expect("front");

    // The run's root added to the AWS roots (what `AWS_CA_BUNDLE` gives the bench): trusted.
    let bundle = std::fs::read_to_string(&pki.aws_bundle).unwrap();
    assert!(bundle.starts_with(AWS_ROOTS));
    let ok = aws_sdk_dynamodb::Client::new(&target(&front.url, bundle).sdk_config());
    for _ in 0..3 {
        ok.list_tables().send().await.expect("ListTables over TLS");
    }
    assert_eq!(front.handshakes(), 1, "three calls, one kept connection");

    // The default roots only (what a function trusts on Lambda): the local chain is refused.
    let strict = aws_sdk_dynamodb::Client::new(&target(&front.url, AWS_ROOTS.into()).sdk_config());
    let err = strict
        .list_tables()
        .send()
        .await
        .expect_err("an unknown root must be refused");
    let text = format!("{:?}", aws_sdk_dynamodb::error::DisplayErrorContext(&err));
    assert!(
        text.to_lowercase().contains("certificate") || text.contains("UnknownIssuer"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

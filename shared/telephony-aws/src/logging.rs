//! JSON logs through `tracing` (spec §2.7). Phone numbers are masked where they are logged
//! (`telephony_core::mask_phone`); tokens and credentialed URLs are never logged.

/// Installs the JSON subscriber once; `RUST_LOG` filters (default `info`). A second call is a
/// no-op, so tests may call it freely.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time()
        .with_target(false)
        .try_init();
}

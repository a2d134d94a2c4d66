//! JSON logs through `tracing` (spec §2.7). Phone numbers are masked where they are logged
//! (`telephony_core::mask_phone`); tokens and credentialed URLs are never logged.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the JSON subscriber once. `RUST_LOG` filters by level and target with the
/// `tracing_subscriber::filter::Targets` syntax (`info`, `warn,telephony_aws=debug`; default
/// `info`); an unparsable value falls back to `info` and says so. `Targets` rather than
/// `EnvFilter`, whose span-field matching links a regex engine into every bootstrap (issue 7).
/// A second call is a no-op, so tests may call it freely.
pub fn init() {
    let raw = std::env::var("RUST_LOG").ok();
    let parsed = raw.as_deref().map(str::parse::<Targets>);
    let filter = match &parsed {
        Some(Ok(t)) => t.clone(),
        _ => Targets::new().with_default(tracing::Level::INFO),
    };
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .without_time()
        .with_target(false);
    if tracing_subscriber::registry()
        .with(fmt)
        .with(filter)
        .try_init()
        .is_ok()
    {
        if let Some(Err(e)) = parsed {
            tracing::warn!(rust_log = raw.as_deref().unwrap_or(""), error = %e, "RUST_LOG not understood; logging at info");
        }
    }
}

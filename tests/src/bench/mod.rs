//! What `make bench` needs to run functions as Lambda runs them (issue 26), kept out of the
//! tests proper:
//! - [`cpu`]: a cgroup CPU quota equal to Lambda's share for a memory size (1,769 MB = one vCPU);
//! - [`tls`]: a certificate chain generated per run and a TLS terminator in front of plain-HTTP
//!   stand-ins (moto, the Twilio media host), so a cold process pays its TLS handshakes;
//! - [`dynalite`]: a faster DynamoDB stand-in than moto, for the warm figures;
//! - [`lambda`]: one function process (a bootstrap, or a peer's runtime loop) under a Runtime API
//!   emulator, confined to a share, with its init and each invocation timed.

pub mod cpu;
pub mod dynalite;
pub mod lambda;
pub mod tls;

//! Start-up cost of the forwarding registry: parsing and validating the compiled-in file (every
//! template against the MMI grammar), as each cold forwarding function does once.

use criterion::{criterion_group, criterion_main, Criterion};
use forwarding::{Registry, REGISTRY_TOML};

fn registry(c: &mut Criterion) {
    println!("registry file: {} bytes", REGISTRY_TOML.len());
    c.bench_function("registry_parse_and_validate", |b| {
        b.iter(|| Registry::parse(std::hint::black_box(REGISTRY_TOML)).unwrap())
    });
}

criterion_group!(benches, registry);
criterion_main!(benches);

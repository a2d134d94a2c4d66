//! `make bench-relay`: the AI receptionist's own turn overhead (issue 28 "Done when"): for warm
//! functions (the handlers in-process, as a warm Lambda runs them) against moto, the local
//! WebSocket gateway and the model stand-in, the time from the caller's `prompt` sent to the
//! first `text` token received, minus the model's time to first token (the stand-in's request
//! read → first chunk written). What remains is ours: the connection and session reads, the
//! ordered history write, the prompt, the request to the model, the generation check and the
//! `@connections` post. Prints p50/p95/max over the turns. Not a test: no assertion on speed.

use call_simulator::relay::turn_message;
use integration_tests::relay::{open_session, relay_stack};
use std::time::{Duration, Instant};

const SESSIONS: usize = 3;
const TURNS: usize = 20;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let r = relay_stack(&[], "en-CA").await;
    let mut latency = Vec::new();
    for n in 0..SESSIONS {
        let (_, mut ws, _) = open_session(&r, "1").await;
        for t in 0..TURNS {
            let sent = Instant::now();
            ws.send(&turn_message("Do you fix furnaces?")).await;
            let mut first = None;
            while let Some(m) = ws
                .next(Duration::from_millis(if first.is_some() {
                    300
                } else {
                    5000
                }))
                .await
            {
                if m["type"] == "text" && first.is_none() {
                    first = Some(sent.elapsed().as_secs_f64() * 1000.0);
                }
            }
            // The first turn of each session warms its connection pools; count the rest.
            if let (Some(ms), true) = (first, t > 0 || n > 0) {
                latency.push(ms);
            }
        }
        ws.close().await;
    }
    let mut ttft = r.model.first_chunk_ms();
    let mut overhead: Vec<f64> = latency
        .iter()
        .zip(ttft.iter().rev().take(latency.len()).rev())
        .map(|(l, m)| l - m)
        .collect();
    let n = latency.len();
    println!("AI receptionist turn, warm handlers in-process against moto + local gateway + stand-in model ({n} turns)");
    println!("                                   p50       p95       max");
    println!(
        "  prompt in → first text out  {:>8.1}  {:>8.1}  {:>8.1} ms",
        pct(&mut latency, 0.5),
        pct(&mut latency, 0.95),
        pct(&mut latency, 1.0)
    );
    println!(
        "  model time to first token   {:>8.1}  {:>8.1}  {:>8.1} ms",
        pct(&mut ttft, 0.5),
        pct(&mut ttft, 0.95),
        pct(&mut ttft, 1.0)
    );
    println!(
        "  our overhead (difference)   {:>8.1}  {:>8.1}  {:>8.1} ms",
        pct(&mut overhead, 0.5),
        pct(&mut overhead, 0.95),
        pct(&mut overhead, 1.0)
    );
}

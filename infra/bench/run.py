#!/usr/bin/env python3
"""`make bench`: one run, this machine, every figure of the README's performance tables.

1. criterion (`cargo bench -p telephony-core --bench frontdoor`): frontdoor and sms-reply compute
   (parse the form, check the signature, decide, write the TwiML), and the same frontdoor work with
   the official Twilio libraries (infra/bench/frontdoor.js, frontdoor.py), with the ratios;
2. functions as Lambda runs them (tests/src/bin/coldstart.rs): the release bootstraps and the
   Node.js 22 / Python peers of the frontdoor under a Runtime API emulator, in the CPU share of
   each memory size (a cgroup quota), with AWS and Twilio's media reached over TLS: init, cold
   first response, warm p50/p99 (the frontdoors twice: DynamoDB on moto, then on dynalite, whose
   answers are ~5× quicker and closer to DynamoDB's own); the standard paths (menu → Dial → voicemail, consent → AI, a text
   with an auto-reply) all cold and warm;
3. the cost of 1,000 calls and 1,000 texts at ca-central-1 list prices (infra/bench/prices.json)
   from the measured billed durations and the counted AWS usage, per memory size.

Exits non-zero when a goal is missed. `BENCH_MEMORY=128,512` limits the memory sizes;
`BENCH_RUNS`/`BENCH_WARM` set the cold runs and warm samples; `BENCH_REUSE=1` prints the last
run's figures again (.local/bench/last-run.json) without measuring.
"""
import json
import math
import os
import platform
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, ".local", "bench")
MEMORY = [int(m) for m in os.environ.get("BENCH_MEMORY", "128,256,512,1024,1769").split(",")]
FUNCTIONS = ["voice-frontdoor", "voice-consent", "voice-menu-handler", "voice-route-action",
             "voice-voicemail", "voice-recording-callback", "voice-transcription-callback",
             "voice-status", "voice-relay-action", "webcomms-sms-reply", "webcomms-sms-status"]
SHOWN = ["voice-frontdoor", "voice-consent", "voice-menu-handler", "webcomms-sms-reply",
         "voice-recording-callback"]
PATHS = {"voicemail": "call: menu → Dial (no answer) → voicemail",
         "ai": "call: consent → AI receptionist", "text": "text with an auto-reply"}
# Lambda's own START, END and REPORT lines per invocation (bytes, about; REPORT carries the
# init duration on a cold start).
PLATFORM_LOG_BYTES = 300


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, **kw).stdout


def to_us(value, unit):
    return float(value) * {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3}[unit]


def criterion():
    out = run(["cargo", "bench", "-q", "-p", "telephony-core", "--bench", "frontdoor", "--",
               "--warm-up-time", "2", "--measurement-time", "5", "_compute"])
    return {name: to_us(v, unit) for name, v, unit in
            re.findall(r"(\w+_compute)\s+time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", out)}


def compute_peers():
    env = dict(os.environ, NODE_PATH=os.path.join(BENCH, "node", "node_modules"))
    node = json.loads(run([os.path.join(BENCH, "node22", "node"), "infra/bench/frontdoor.js"], env=env)
                      .strip().splitlines()[-1])
    py = json.loads(run([os.path.join(BENCH, "py", "bin", "python"), "infra/bench/frontdoor.py"])
                    .strip().splitlines()[-1])
    # The same work: each peer must write the document ours writes (criterion asserts ours).
    case = json.load(open(os.path.join(ROOT, "infra", "bench", "frontdoor_case.json")))
    want = same_twiml(case["twiml"])
    for peer in (node, py):
        if same_twiml(peer["twiml"]) != want:
            sys.exit(f"{peer['impl']} wrote other TwiML than ours:\n{peer['twiml']}\nours:\n{case['twiml']}")
    return node, py


def same_twiml(doc):
    """The document in XML C14N 2.0 (attributes sorted, the declaration dropped): equal for
    equal TwiML whatever the writer's attribute order or quoting."""
    body = doc.split("?>", 1)[1] if doc.startswith("<?xml") else doc
    return ET.canonicalize(body)


def webhooks_by_memory(lines):
    """Cold (init + first response) and warm p50 of each shown webhook at every memory size."""
    print()
    print("| webhook: cold / warm p50, over TLS (from the paths) | " +
          " | ".join(f"{m} MB" for m in MEMORY) + " |")
    print("|---|" + "---:|" * len(MEMORY))
    for f in SHOWN:
        cells = []
        for m in MEMORY:
            r = next(l for l in lines[m] if l["kind"] == "function" and l["function"] == f)
            cells.append(f"{r['cold_ms']:.0f} / {r['warm_p50_ms']:.1f} ms")
        print(f"| {f} | " + " | ".join(cells) + " |")


def harness(*args):
    out = subprocess.run(["target/release/coldstart", *args], cwd=ROOT,
                         capture_output=True, text=True)
    sys.stderr.write(out.stderr)  # the harness's progress, and its panic if it failed
    out.check_returncode()
    # In-process handlers (--usage) also print their EMF metric lines: keep the harness's own.
    return [d for d in (json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")) if "kind" in d]


def cost(prices, memory, path, usage, lines, mode):
    """USD per 1,000 of `path` at `memory` MB, with the billed durations of `mode` runs."""
    p = {k: v["usd"] for k, v in prices.items() if isinstance(v, dict)}
    row = next(l for l in lines if l["kind"] == "path" and l["path"] == path and l["mode"] == mode)
    cold = next(l for l in lines if l["kind"] == "path" and l["path"] == path and l["mode"] == "cold")
    u = next(x for x in usage if x["path"] == path)
    n = row["invocations"]
    log_gb = (cold["log_bytes"] + PLATFORM_LOG_BYTES * n) / 2**30
    parts = {
        "lambda duration": row["billed_ms"] / 1000 * memory / 1024 * p["lambda_arm_gb_second"],
        "lambda requests": n * p["lambda_request"],
        "http api": n * p["http_api_request"],
        "dynamodb": u["dynamodb_wru"] * p["dynamodb_wru"] + u["dynamodb_rru"] * p["dynamodb_rru"],
        "s3": u["s3_put"] * p["s3_put"] + u["s3_get"] * p["s3_get"],
        "sns": u["sns_publish"] * p["sns_publish"],
        "logs": log_gb * p["logs_ingest_gb"],
    }
    return {k: v * 1000 for k, v in parts.items()}


def main():
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}", flush=True)
    ours = criterion()
    node, py = compute_peers()
    fd = ours["frontdoor_compute"]
    print()
    print("| compute (median µs per webhook) | µs | vs ours |")
    print("|---|---:|---:|")
    print(f"| ours: frontdoor (bar ≤ 5 µs) | {fd:.2f} | 1× |")
    print(f"| ours: sms-reply | {ours['sms_reply_compute']:.2f} | |")
    print(f"| {node['impl']} (Node {node.get('node', '22')}): frontdoor | {node['median_us']:.2f} | "
          f"{node['median_us'] / fd:.1f}× slower (bar ≥ 10×) |")
    print(f"| {py['impl']}: frontdoor | {py['median_us']:.2f} | {py['median_us'] / fd:.1f}× slower |")
    compute_ok = fd <= 5.0 and node["median_us"] / fd >= 10

    saved = os.path.join(BENCH, "last-run.json")
    if os.environ.get("BENCH_REUSE"):  # re-print the last run's figures (after editing this script)
        lines, usage = json.load(open(saved))
        lines = {int(m): v for m, v in lines.items()}
    else:
        packages = sum((["-p", f] for f in FUNCTIONS), [])
        # Two builds: a `--bin` filter applies to every `-p` of the same command, so one command
        # would build the harness alone and find no functions on a fresh clone.
        run(["cargo", "build", "-q", "--release", *packages])
        run(["cargo", "build", "-q", "--release", "-p", "integration-tests", "--bin", "coldstart"])
        lines = {m: harness("--memory", str(m), "--runs", os.environ.get("BENCH_RUNS", "5"),
                            "--warm", os.environ.get("BENCH_WARM", "30")) for m in MEMORY}
        usage = harness("--usage")
        json.dump([lines, usage], open(saved, "w"))
    prices = json.load(open(os.path.join(ROOT, "infra", "bench", "prices.json")))

    # The same work under the quota too: every peer's first answer is the document ours gave.
    for m, ls in lines.items():
        fd_lines = [l for l in ls if l["kind"] == "frontdoor"]
        want = {l.get("dynamodb"): same_twiml(l["twiml"]) for l in fd_lines if l["impl"] == "voice-frontdoor"}
        for l in fd_lines:
            if same_twiml(l["twiml"]) != want[l.get("dynamodb")]:
                sys.exit(f"{l['impl']} at {m} MB answered other TwiML than voice-frontdoor:\n{l['twiml']}")

    base = MEMORY[0]

    def frontdoors(m, standin):
        return {l["impl"]: l for l in lines[m]
                if l["kind"] == "frontdoor" and l.get("dynamodb", "moto") == standin}

    fds = frontdoors(base, "moto")
    fast = frontdoors(base, "dynalite")
    ours_fd = fds["voice-frontdoor"]
    print()
    print(f"| frontdoor at {base} MB's CPU share, over TLS | DynamoDB stand-in | init | first response | "
          "cold (init + first) | warm p50 (stand-in / own) | warm p99 | CPU: init / first / warm | peak RSS | "
          "cold vs ours |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for standin, rows in [("moto", fds), ("dynalite", fast)]:
        for name, label in [("voice-frontdoor", "ours (Rust bootstrap)"),
                            ("node-frontdoor", "Node.js 22 + twilio + @aws-sdk/client-dynamodb"),
                            ("python-frontdoor", "Python + twilio + boto3")]:
            r = rows[name]
            ratio = r["cold_ms"] / rows["voice-frontdoor"]["cold_ms"]
            print(f"| {label} | {standin} | {r['init_ms']:.0f} ms | {r['first_ms']:.0f} ms | {r['cold_ms']:.0f} ms | "
                  f"{r['warm_p50_ms']:.1f} ms ({r['warm_aws_p50_ms']:.1f} / {r['warm_own_p50_ms']:.1f}) | "
                  f"{r['warm_p99_ms']:.1f} ms | "
                  f"{r['cpu_ms_init']:.1f} / {r['cpu_ms_first']:.1f} / {r['cpu_ms_per_warm']:.2f} ms | "
                  f"{r['peak_rss_mib']:.1f} MiB | "
                  f"{'1×' if name == 'voice-frontdoor' else f'{ratio:.1f}× slower'} |")

    print()
    for st in (l for l in lines[base] if l["kind"] == "standin"):
        print(f"the stand-in's own answer ({st.get('dynamodb', 'moto')} behind the TLS front, full CPU, kept "
              f"connection): GetItem {st['get_item_p50_ms']:.2f} ms, UpdateItem {st['update_item_p50_ms']:.2f} ms p50")
    print("(moto is one Python process: the requests a webhook sends together are served one after another)")

    funcs = {l["function"]: l for l in lines[base] if l["kind"] == "function"}
    print()
    print(f"| webhook at {base} MB, over TLS (from the paths) | init | first response | cold | warm p50 | warm p99 |")
    print("|---|---:|---:|---:|---:|---:|")
    for f in SHOWN:
        r = funcs[f]
        print(f"| {f} | {r['init_ms']:.0f} ms | {r['first_ms']:.0f} ms | {r['cold_ms']:.0f} ms | "
              f"{r['warm_p50_ms']:.1f} ms | {r['warm_p99_ms']:.1f} ms |")
    webhooks_by_memory(lines)

    print()
    print(f"| path at {base} MB (our answer times the caller waits for) | webhooks | warm | every function cold |")
    print("|---|---:|---:|---:|")
    paths = {(l["path"], l["mode"]): l for l in lines[base] if l["kind"] == "path"}
    for path, label in PATHS.items():
        w, c = paths[(path, "warm")], paths[(path, "cold")]
        heard = sum(1 for s in w["steps"] if not s["callback"])
        print(f"| {label} | {heard} heard + {w['invocations'] - heard} callbacks | {w['heard_ms']:.0f} ms | "
              f"{c['heard_ms']:.0f} ms |")

    print()
    print("| memory | CPU share | frontdoor cold | frontdoor warm p50 (moto / dynalite) | call warm / cold (heard) | "
          "USD per 1,000 calls (warm / all cold) | USD per 1,000 texts (warm / cold) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    costs = {}
    for m in MEMORY:
        f = frontdoors(m, "moto")["voice-frontdoor"]
        fw = frontdoors(m, "dynalite")["voice-frontdoor"]["warm_p50_ms"]
        p = {(l["path"], l["mode"]): l for l in lines[m] if l["kind"] == "path"}
        c = {(path, mode): sum(cost(prices, m, path, usage, lines[m], mode).values())
             for path in PATHS for mode in ("warm", "cold")}
        costs[m] = c
        print(f"| {m} MB | {min(m / 1769, 1) * 100:.1f} % | {f['cold_ms']:.0f} ms | {f['warm_p50_ms']:.1f} / {fw:.1f} ms | "
              f"{p[('voicemail', 'warm')]['heard_ms']:.0f} / {p[('voicemail', 'cold')]['heard_ms']:.0f} ms | "
              f"{c[('voicemail', 'warm')]:.4f} / {c[('voicemail', 'cold')]:.4f} | "
              f"{c[('text', 'warm')]:.4f} / {c[('text', 'cold')]:.4f} |")

    print()
    u = {x["path"]: x for x in usage}
    print("| usage per call or text (counted) | webhooks | DynamoDB RRU | DynamoDB WRU | S3 PUT | S3 GET | SNS publish |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for path, label in PATHS.items():
        x = u[path]
        print(f"| {label} | {x['webhooks']} | {x['dynamodb_rru']:.1f} | {x['dynamodb_wru']:.0f} | {x['s3_put']} | "
              f"{x['s3_get']} | {x['sns_publish']} |")
    parts = cost(prices, base, "voicemail", usage, lines[base], "cold")
    print()
    print(f"cost of 1,000 calls at {base} MB, all cold, USD: " +
          ", ".join(f"{k} {v:.4f}" for k, v in parts.items()))
    print(f"prices: {prices['region']}, entered {prices['date']} (infra/bench/prices.json, with their pages)")

    goal_cold = 150.0
    meets = [m for m in MEMORY if frontdoors(m, "moto")["voice-frontdoor"]["cold_ms"] <= goal_cold]
    cheapest = min(meets, key=lambda m: costs[m][("voicemail", "cold")]) if meets else None
    print(f"cheapest memory whose cold frontdoor answers within {goal_cold:.0f} ms: "
          f"{f'{cheapest} MB' if cheapest else 'none'}")

    node_ratio = fds["node-frontdoor"]["cold_ms"] / ours_fd["cold_ms"]
    heard_warm = paths[("voicemail", "warm")]["heard_ms"]
    goals = {
        "compute ≤ 5 µs and ≥ 10× twilio-node": compute_ok,
        f"cold frontdoor ≤ 150 ms at {base} MB": ours_fd["cold_ms"] <= goal_cold,
        "cold frontdoor ≥ 5× faster than Node": node_ratio >= 5,
        f"warm frontdoor p50 ≤ 15 ms at {base} MB (DynamoDB on dynalite: {fast['voice-frontdoor']['warm_p50_ms']:.1f} "
        f"ms; on moto {ours_fd['warm_p50_ms']:.1f} ms, of it moto {ours_fd['warm_aws_p50_ms']:.1f} ms)":
            fast["voice-frontdoor"]["warm_p50_ms"] <= 15,
        "caller-heard warm call ≤ 100 ms": heard_warm <= 100,
        "≤ US$0.10 per 1,000 calls (all cold)": costs[base][("voicemail", "cold")] <= 0.10,
    }
    print()
    for name, ok in goals.items():
        print(f"goal: {name}: {'met' if ok else 'NOT met'}")
    sys.exit(0 if all(goals.values()) else 1)


if __name__ == "__main__":
    main()

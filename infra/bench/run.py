#!/usr/bin/env python3
"""`make bench`: one table, one run, this machine.

1. criterion (`cargo bench -p telephony-core --bench frontdoor`): frontdoor and sms-reply compute
   (parse the form, check the signature, decide, write the TwiML);
2. the same frontdoor work with the official Twilio libraries (infra/bench/frontdoor.js with the
   `twilio` npm package, frontdoor.py with the `twilio` PyPI package; installed by the Makefile
   into .local/bench), with the ratios;
3. init, first response, warm p50 and peak RSS of the release bootstraps, run by a Lambda Runtime
   API emulator against moto (tests/src/bin/coldstart.rs).
"""
import json
import os
import platform
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, ".local", "bench")


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, **kw).stdout


def to_us(value, unit):
    return float(value) * {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3}[unit]


def criterion():
    out = run(["cargo", "bench", "-q", "-p", "telephony-core", "--bench", "frontdoor", "--",
               "--warm-up-time", "2", "--measurement-time", "5", "_compute"])
    found = {}
    for name, v, unit in re.findall(r"(\w+_compute)\s+time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", out):
        found[name] = to_us(v, unit)
    return found


def peers():
    env = dict(os.environ, NODE_PATH=os.path.join(BENCH, "node", "node_modules"))
    node = json.loads(run(["node", "infra/bench/frontdoor.js"], env=env).strip().splitlines()[-1])
    py = json.loads(run([os.path.join(BENCH, "py", "bin", "python"), "infra/bench/frontdoor.py"])
                    .strip().splitlines()[-1])
    return node, py


def coldstart():
    run(["cargo", "build", "-q", "--release", "-p", "voice-frontdoor", "-p", "webcomms-sms-reply"])
    out = run(["cargo", "run", "-q", "-p", "integration-tests", "--bin", "coldstart", "--",
               "--runs", "5", "--warm", "100"])
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def main():
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}", flush=True)
    ours = criterion()
    node, py = peers()
    fd = ours["frontdoor_compute"]
    print()
    print("| compute (median µs per webhook) | µs | vs ours |")
    print("|---|---:|---:|")
    print(f"| ours: frontdoor (bar ≤ 5 µs) | {fd:.2f} | 1× |")
    print(f"| ours: sms-reply | {ours['sms_reply_compute']:.2f} | |")
    print(f"| {node['impl']}: frontdoor | {node['median_us']:.2f} | {node['median_us'] / fd:.1f}× slower (bar ≥ 10×) |")
    print(f"| {py['impl']}: frontdoor | {py['median_us']:.2f} | {py['median_us'] / fd:.1f}× slower |")
    rows = coldstart()
    print()
    print("| release bootstrap (x86_64) | size | init (bar ≤ 15 ms) | first response | warm p50 | peak RSS (bar ≤ 32 MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['function']} | {r['bootstrap_bytes'] / 1e6:.1f} MB | {r['init_ms_median']:.1f} ms | "
              f"{r['first_response_ms_median']:.1f} ms | {r['warm_p50_ms']:.1f} ms | {r['peak_rss_mib']:.1f} MiB |")
    ok = fd <= 5.0 and node["median_us"] / fd >= 10 and all(
        r["init_ms_median"] <= 15 and r["peak_rss_mib"] <= 32 for r in rows)
    print()
    print("bench: compute, ratio, init and memory bars", "met" if ok else "NOT met")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

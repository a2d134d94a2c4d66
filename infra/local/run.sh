#!/usr/bin/env bash
# Runs the hotline locally: moto (DynamoDB/S3/SNS) on 127.0.0.1:4566, the stack's resources created
# from template.yaml, and every route served by `cargo lambda watch` on 127.0.0.1:9000 under the
# template's paths (router: [workspace.metadata.lambda.watch.router] in Cargo.toml).
# Stop with Ctrl-C; moto stops with it. Then, in another shell: `make call`.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv
MOTO_PORT=${MOTO_PORT:-4566}
mkdir -p .local

"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" > .local/moto.log 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 100); do
  "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$MOTO_PORT/moto-api/data.json', timeout=1)" 2>/dev/null && break
  sleep 0.2
done

resources=$("$VENV/bin/python" infra/local/bootstrap.py --endpoint "http://127.0.0.1:$MOTO_PORT" --prefix local)
{
  cat infra/local/stack.env
  echo "AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT"
  "$VENV/bin/python" - "$resources" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
for var, logical in [("CALLS_TABLE", "CallsTable"), ("NUMBERS_TABLE", "NumbersTable"),
                     ("RATE_LIMITS_TABLE", "RateLimitsTable"), ("RECORDINGS_BUCKET", "RecordingsBucket"),
                     ("VOICEMAIL_TOPIC_ARN", "VoicemailTopic"), ("MESSAGES_TABLE", "MessagesTable"),
                     ("OPT_OUTS_TABLE", "OptOutsTable"), ("SMS_TOPIC_ARN", "SmsTopic")]:
    print(f"{var}={r[logical]}")
PY
} > .local/stack.env
(set -a && source .local/stack.env && set +a && cargo run --quiet -p call-simulator -- check-config)
echo "moto on http://127.0.0.1:$MOTO_PORT; resources: $resources"
echo "serving every route on http://127.0.0.1:9000 (functions compile on first request); try: make call"
PATH="$PWD/$VENV/bin:$PATH" cargo lambda watch -A 127.0.0.1 -P 9000 --env-file .local/stack.env

#!/usr/bin/env bash
# Runs the hotline locally: moto (DynamoDB/S3/SNS) on 127.0.0.1:4566, the stack's resources created
# from template.yaml, and every route served by `cargo lambda watch` on 127.0.0.1:9000 under the
# template's paths (router: [workspace.metadata.lambda.watch.router] in Cargo.toml).
# Also the fake Twilio media host and REST API (TWILIO_API_BASE), so sample events that fetch media
# or recordings work on their own; every other Twilio REST call (number search, purchase,
# Messaging Services) is answered by the Prism mock of Twilio's OpenAPI documents
# (infra/twilio-oai), which refuses any call the specification does not allow. The ops routes are
# also served by the local IAM gateway on 127.0.0.1:9100: it verifies SigV4 signatures made with
# this run's operator key (a fresh secret each run) and tells the functions who called, as API
# Gateway's AWS_IAM authorizer does; `make ops` signs with that key. Stop with Ctrl-C; moto and the fake Twilio stop with it; if moto
# dies, the whole run stops and says so. Then, in another shell: `make call`.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv
MOTO_PORT=${MOTO_PORT:-4566}
PRISM_API_PORT=${PRISM_API_PORT:-4010}
PRISM_MESSAGING_PORT=${PRISM_MESSAGING_PORT:-4011}
PRISM_NUMBERS_V1_PORT=${PRISM_NUMBERS_V1_PORT:-4012}
PRISM_NUMBERS_V2_PORT=${PRISM_NUMBERS_V2_PORT:-4013}
OPS_GATEWAY_PORT=${OPS_GATEWAY_PORT:-9100}
FAKE_BRIDGE_PORT=${FAKE_BRIDGE_PORT:-9400}
ISSUER_PORT=${ISSUER_PORT:-9500}
RELAY_WS_PORT=${RELAY_WS_PORT:-9300}
RELAY_MANAGEMENT_PORT=${RELAY_MANAGEMENT_PORT:-9301}
LLM_STANDIN_PORT=${LLM_STANDIN_PORT:-9310}
# The AI receptionist's model: the local stand-in unless LLM_BASE_URL points at a real
# OpenAI-compatible endpoint (e.g. a local Ollama: LLM_BASE_URL=http://127.0.0.1:11434/v1
# LLM_MODEL=llama3.1 make run; LLM_API_KEY for a hosted one).
LLM_BASE_URL=${LLM_BASE_URL:-http://127.0.0.1:$LLM_STANDIN_PORT/v1}
LLM_MODEL=${LLM_MODEL:-standin}
PRISM=.local/prism/node_modules/.bin/prism
mkdir -p .local

"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" > .local/moto.log 2>&1 &
MOTO_PID=$!
PIDS="$MOTO_PID"
trap 'kill $PIDS 2>/dev/null || true' EXIT INT TERM
"$PRISM" mock -h 127.0.0.1 -p "$PRISM_API_PORT" infra/twilio-oai/twilio_api_v2010.json > .local/prism-api.log 2>&1 &
PIDS="$PIDS $!"
"$PRISM" mock -h 127.0.0.1 -p "$PRISM_MESSAGING_PORT" infra/twilio-oai/twilio_messaging_v1.json > .local/prism-messaging.log 2>&1 &
PIDS="$PIDS $!"
"$PRISM" mock -h 127.0.0.1 -p "$PRISM_NUMBERS_V1_PORT" infra/twilio-oai/twilio_numbers_v1.json > .local/prism-numbers-v1.log 2>&1 &
PIDS="$PIDS $!"
"$PRISM" mock -h 127.0.0.1 -p "$PRISM_NUMBERS_V2_PORT" infra/twilio-oai/twilio_numbers_v2.json > .local/prism-numbers-v2.log 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do
  "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$MOTO_PORT/moto-api/data.json', timeout=1)" 2>/dev/null && break
  sleep 0.2
done

# The local token issuer of the forwarding tenant API (Cognito's stand-in): a fresh RSA key each
# run, its JWKS served on :$ISSUER_PORT; `make token` signs with the key.
mkdir -p .local/issuer/.well-known
JWT_KID=$("$VENV/bin/python" - <<'PY'
import base64, json, secrets
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
kid = "local-run-" + secrets.token_hex(4)
open(".local/issuer/key.der", "wb").write(key.private_bytes(
    serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
n = key.public_key().public_numbers()
b64 = lambda i: base64.urlsafe_b64encode(i.to_bytes((i.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
json.dump({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": b64(n.n), "e": b64(n.e)}]},
          open(".local/issuer/.well-known/jwks.json", "w"))
print(kid)
PY
)
"$VENV/bin/python" -m http.server "$ISSUER_PORT" --bind 127.0.0.1 --directory .local/issuer > .local/issuer.log 2>&1 &
PIDS="$PIDS $!"

resources=$("$VENV/bin/python" infra/local/bootstrap.py --endpoint "http://127.0.0.1:$MOTO_PORT" --prefix local)
{
  cat infra/local/stack.env
  echo "AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT"
  # Twilio's numbers host (hosted SMS, porting) is two documents: the fake Twilio routes by path.
  echo "FAKE_TWILIO_UPSTREAM=\"/v1/Porting=http://127.0.0.1:$PRISM_NUMBERS_V1_PORT,/v2/HostedNumber=http://127.0.0.1:$PRISM_NUMBERS_V2_PORT,http://127.0.0.1:$PRISM_API_PORT\""
  echo "TWILIO_NUMBERS_BASE=http://127.0.0.1:9181"
  echo "TWILIO_MESSAGING_BASE=http://127.0.0.1:$PRISM_MESSAGING_PORT"
  echo "OPS_GATEWAY_PORT=$OPS_GATEWAY_PORT"
  echo "TRADELINE_API_URL=http://127.0.0.1:$OPS_GATEWAY_PORT"
  echo "LAMBDA_INVOKE_BASE=http://127.0.0.1:9000"
  echo "LOCAL_OPERATOR_ARN=arn:aws:iam::000000000000:user/local-operator"
  echo "LOCAL_OPERATOR_ACCESS_KEY_ID=AKIALOCALOPERATOR001"
  echo "LOCAL_OPERATOR_SECRET_ACCESS_KEY=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(20))')"
  echo "STREAM_SECRET=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')"
  echo "SUPPRESSION_SECRET=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')"
  echo "FAKE_BRIDGE_PORT=$FAKE_BRIDGE_PORT"
  echo "RELAY_URL=ws://127.0.0.1:$RELAY_WS_PORT/local"
  echo "RELAY_MANAGEMENT_URL=http://127.0.0.1:$RELAY_MANAGEMENT_PORT/local"
  echo "RELAY_WS_PORT=$RELAY_WS_PORT"
  echo "RELAY_MANAGEMENT_PORT=$RELAY_MANAGEMENT_PORT"
  echo "LLM_STANDIN_PORT=$LLM_STANDIN_PORT"
  echo "LLM_BASE_URL=$LLM_BASE_URL"
  echo "LLM_MODEL=$LLM_MODEL"
  echo "LLM_API_KEY=${LLM_API_KEY:-}"
  echo "JWT_ISSUER=http://127.0.0.1:$ISSUER_PORT"
  echo "JWT_AUDIENCE=local-tenant-app"
  echo "JWKS_URL=http://127.0.0.1:$ISSUER_PORT/.well-known/jwks.json"
  echo "LOCAL_JWT_KEY=$PWD/.local/issuer/key.der"
  echo "LOCAL_JWT_KID=$JWT_KID"
  "$VENV/bin/python" - "$resources" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
for var, logical in [("CALLS_TABLE", "CallsTable"), ("NUMBERS_TABLE", "NumbersTable"),
                     ("RATE_LIMITS_TABLE", "RateLimitsTable"), ("RECORDINGS_BUCKET", "RecordingsBucket"),
                     ("VOICEMAIL_TOPIC_ARN", "VoicemailTopic"), ("MESSAGES_TABLE", "MessagesTable"),
                     ("OPT_OUTS_TABLE", "OptOutsTable"), ("SMS_TOPIC_ARN", "SmsTopic"),
                     ("TRANSACTIONS_TABLE", "TransactionsTable"), ("IDEMPOTENCY_TABLE", "IdempotencyTable"),
                     ("CONTACTS_TABLE", "ContactsTable"), ("SUBMISSIONS_TABLE", "SubmissionsTable"),
                     ("COMPLIANCE_TABLE", "ComplianceTable"), ("FORWARDING_TABLE", "ForwardingTable"),
                     ("PRIVACY_TABLE", "PrivacyTable")]:
    print(f"{var}={r[logical]}")
PY
} > .local/stack.env
set -a && source .local/stack.env && set +a
# The AI demo number (issue 12): its calls go to the fake media bridge after consent.
"$VENV/bin/python" - <<PY
import boto3
t = boto3.resource("dynamodb", endpoint_url="$AWS_ENDPOINT_URL", region_name="$AWS_REGION").Table("$NUMBERS_TABLE")
t.put_item(Item={"e164": "$AI_DEMO_E164", "business_name": "TradeLine AI Demo", "language": "en-CA",
                 "sales_target": "$SALES_TARGET_E164", "support_target": "$SUPPORT_TARGET_E164",
                 "ai_enabled": "true", "ai_stream_url": "ws://127.0.0.1:$FAKE_BRIDGE_PORT/media", "ai_share": "100"})
# The built-in receptionist's demo number (issue 28): relay engine, weekday hours, facts to quote.
t.put_item(Item={"e164": "$AI_RELAY_DEMO_E164", "business_name": "Acme Heating", "language": "en-CA",
                 "sales_target": "$SALES_TARGET_E164", "support_target": "$SUPPORT_TARGET_E164",
                 "after_hours_target": "$SUPPORT_TARGET_E164", "timezone": "America/Toronto",
                 "hours": "mon-fri 08:00-17:00", "ai_enabled": "true", "ai_engine": "relay", "ai_share": "100",
                 "ai_knowledge": "We repair furnaces, boilers and heat pumps in Toronto and Mississauga. A service call is \$129."})
PY
target/debug/call-simulator check-config
target/debug/call-simulator fake-twilio > .local/fake-twilio.log 2>&1 &
PIDS="$PIDS $!"
target/debug/call-simulator fake-bridge > .local/fake-bridge.log 2>&1 &
PIDS="$PIDS $!"
# The AI receptionist's WebSocket API (API Gateway's stand-in: invokes the relay functions through
# cargo lambda watch) and, unless a real endpoint is configured, the model stand-in.
target/debug/relay-local gateway > .local/relay-gateway.log 2>&1 &
PIDS="$PIDS $!"
target/debug/relay-local llm > .local/llm-standin.log 2>&1 &
PIDS="$PIDS $!"

PATH="$PWD/$VENV/bin:$PATH" cargo lambda watch -q -A 127.0.0.1 -P 9000 --env-file .local/stack.env &
WATCH_PID=$!
PIDS="$PIDS $WATCH_PID"
for _ in $(seq 1 150); do
  (exec 3<>/dev/tcp/127.0.0.1/9000) 2>/dev/null && break
  sleep 0.2
done
for port in "$PRISM_API_PORT" "$PRISM_MESSAGING_PORT" "$PRISM_NUMBERS_V1_PORT" "$PRISM_NUMBERS_V2_PORT"; do
  for _ in $(seq 1 300); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
    sleep 0.2
  done
done
target/debug/local-iam-gateway 2> .local/ops-gateway.log &
PIDS="$PIDS $!"
echo "ready: every route on http://127.0.0.1:9000 (moto on :$MOTO_PORT, fake Twilio on $TWILIO_API_BASE, Prism on :$PRISM_API_PORT/:$PRISM_MESSAGING_PORT, ops API with SigV4 on :$OPS_GATEWAY_PORT)"
echo "AI demo number $AI_DEMO_E164 → fake media bridge on ws://127.0.0.1:$FAKE_BRIDGE_PORT/media"
echo "AI receptionist number $AI_RELAY_DEMO_E164 → ConversationRelay on $RELAY_URL, model at $LLM_BASE_URL ($LLM_MODEL)"
echo "forwarding tenant API: tokens from make token ARGS='--org acme' (issuer on :$ISSUER_PORT)"
echo "try, in another shell: make call; make call ARGS='--ai late'; make ops ARGS='numbers list'"
echo "  make call ARGS=\"--ai relay --say 'Do you fix furnaces?' --say 'Can someone come Tuesday at 10?' --say yes\""

# Watchdog: without moto every request would fail; stop the run and say why.
while kill -0 "$WATCH_PID" 2>/dev/null; do
  if ! kill -0 "$MOTO_PID" 2>/dev/null; then
    echo "moto (local AWS) stopped; see .local/moto.log. Stopping; run make run again." >&2
    exit 1
  fi
  sleep 1
done
wait "$WATCH_PID"

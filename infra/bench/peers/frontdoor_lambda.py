"""The frontdoor webhook as a Python Lambda function with the official packages: `twilio`
(RequestValidator, twiml.voice_response) and `boto3`. The same work as functions/voice-frontdoor
and peers/frontdoor.js: check X-Twilio-Signature, claim the CallSid (conditional UpdateItem) while
reading the number (GetItem), then the rate-limit windows (conditional UpdateItem each) while
looking up a known caller (GetItem), and the greeting TwiML. The two pairs of calls run
concurrently, as ours do. Started by tests/src/bin/coldstart.rs as `python frontdoor_lambda.py`:
the module is the init, the loop at the bottom is what Lambda's Python runtime does."""
import json
import os
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl

import boto3
from botocore.exceptions import ClientError
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

env = os.environ
ddb = boto3.client("dynamodb", region_name=env["AWS_REGION"], endpoint_url=env.get("AWS_ENDPOINT_URL"))
validator = RequestValidator(env["TWILIO_AUTH_TOKEN"])
pool = ThreadPoolExecutor(max_workers=4)
LIMITS = [tuple(int(x) for x in l.split("/")) for l in env.get("RATE_LIMITS", "10/60").split(",")]
RETENTION = 90 * 86400


def conditional(fn, **kw):
    try:
        fn(**kw)
        return True
    except ClientError as e:
        if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise


def claim(sid, frm, to, now):
    return conditional(
        ddb.update_item, TableName=env["CALLS_TABLE"], Key={"pk": {"S": sid}},
        UpdateExpression="SET #kind = :kind, #from = :from, #to = :to, frontdoor_at = :now, updated_at = :now, expires_at = :exp, active = :one, #day = :day",
        ConditionExpression="attribute_not_exists(frontdoor_at)",
        ExpressionAttributeNames={"#kind": "kind", "#from": "from", "#to": "to", "#day": "day"},
        ExpressionAttributeValues={":kind": {"S": "call"}, ":from": {"S": frm}, ":to": {"S": to},
                                   ":now": {"N": str(now)}, ":exp": {"N": str(now + RETENTION)},
                                   ":one": {"S": "1"}, ":day": {"S": time.strftime("%Y-%m-%d", time.gmtime(now))}})


def hit(frm, limit, now):
    mx, secs = limit
    start = now - now % secs
    return conditional(
        ddb.update_item, TableName=env["RATE_LIMITS_TABLE"], Key={"pk": {"S": f"{frm}#{secs}#{start}"}},
        UpdateExpression="ADD hits :one SET expires_at = :end",
        ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
        ExpressionAttributeValues={":one": {"N": "1"}, ":end": {"N": str(start + secs)}, ":limit": {"N": str(mx)}})


def handler(event):
    query = f"?{event['rawQueryString']}" if event.get("rawQueryString") else ""
    url = f"{env['PUBLIC_BASE_URL']}{event['rawPath']}{query}"
    params = dict(parse_qsl(event.get("body") or "", keep_blank_values=True))
    if not validator.validate(url, params, event["headers"].get("x-twilio-signature", "")):
        return {"statusCode": 403, "body": "invalid signature"}
    if not params.get("CallSid"):
        return {"statusCode": 400, "body": "no CallSid"}
    now = int(time.time())
    frm, to = params.get("From", "anonymous"), params.get("To", "")
    claimed = pool.submit(claim, params["CallSid"], frm, to, now)
    number = ddb.get_item(TableName=env["NUMBERS_TABLE"], Key={"e164": {"S": to}}).get("Item", {})
    claimed.result()
    org = number.get("org_id", {}).get("S", "default")
    hits = [pool.submit(hit, frm, l, now) for l in LIMITS]
    contact = {}
    if env.get("CONTACTS_TABLE"):
        contact = ddb.get_item(TableName=env["CONTACTS_TABLE"], Key={"pk": {"S": f"{org}#{frm}"}}).get("Item", {})
    allowed = all(h.result() for h in hits)
    r = VoiceResponse()
    if not allowed:
        r.reject(reason="busy")
    else:
        business = number.get("business_name", {}).get("S", env.get("BUSINESS_NAME", ""))
        notice = (f"Thank you for calling {business}. Calls may be recorded for quality and training, "
                  "but only with your permission.")
        if "first_name" in contact:
            notice = f"Welcome back, {contact['first_name']['S']}. {notice}"
        r.say(notice, voice="Polly.Joanna-Neural", language="en-US")
        g = r.gather(input="dtmf speech", action=f"{env['PUBLIC_BASE_URL']}/voice-consent?lang=en", method="POST",
                     num_digits=1, timeout=5, action_on_empty_result=True, language="en-US",
                     hints="yes, no, sales, support, voicemail", speech_timeout="auto")
        g.say("Press 1 or say yes to allow this call to be recorded. Press 2 or say no to continue without recording.",
              voice="Polly.Joanna-Neural", language="en-US")
        g.say("Pour le service en français, faites le 8.", voice="Polly.Gabrielle-Neural", language="fr-CA")
    return {"statusCode": 200, "headers": {"content-type": "text/xml; charset=utf-8"}, "body": str(r)}


if __name__ == "__main__":
    base = f"http://{env['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation"
    while True:
        with urllib.request.urlopen(f"{base}/next") as nxt:
            rid = nxt.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(nxt.read())
        try:
            out, kind = handler(event), "response"
        except Exception as e:  # reported to the runtime API, as Lambda's runtime does
            out, kind = {"errorMessage": str(e), "errorType": type(e).__name__}, "error"
        req = urllib.request.Request(f"{base}/{rid}/{kind}", data=json.dumps(out).encode(), method="POST")
        urllib.request.urlopen(req).read()

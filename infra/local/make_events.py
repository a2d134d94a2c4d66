#!/usr/bin/env python3
"""Write events/*.json: one API Gateway HTTP API (payload 2.0) event per function (and a few
variants), signed the way Twilio signs, with the token and base URL documented in
events/README.md. The signature is computed here independently of the Rust code (hmac + sha1 from
the Python standard library), so the events test also cross-checks our validator.

Usage: make_events.py [--out events]
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import urllib.parse

BASE_URL = "http://127.0.0.1:9000"
TOKEN = "local-test-auth-token-0123456789abcdef"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
CALL = "CA5f2b0e4c9d8a7b6c5d4e3f2a1b0c9d8e"
REC = "RE5f2b0e4c9d8a7b6c5d4e3f2a1b0c9d8e"
CALLER = "+14165550123"
# Each texting event has a sender of its own, so no event changes what another answers (an
# opt-out or an auto-reply window of one sender never silences another's event).
HELP_SENDER = "+14165550124"
MMS_SENDER = "+14165550125"
WA_SENDER = "+14165550126"
WA = "SM7a1b2c3d4e5f60718293a4b5c6d7e8f9"
OPTED_OUT = "+14165550126"
MSG = "SM5f2b0e4c9d8a7b6c5d4e3f2a1b0c9d8e"
MSG2 = "SM6f2b0e4c9d8a7b6c5d4e3f2a1b0c9d8e"
MSG3 = "SM7f2b0e4c9d8a7b6c5d4e3f2a1b0c9d8e"
MMS = "MM5f2b0e4c9d8a7b6c5d4e3f2a1b0c9d8e"
HOTLINE = "+15877428885"


def signature(url, params):
    data = url + "".join(k + v for k, v in sorted(set(params)))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def voice(**extra):
    p = {"AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "CallSid": CALL, "CallStatus": "in-progress",
         "Called": HOTLINE, "Caller": CALLER, "Direction": "inbound", "From": CALLER, "To": HOTLINE}
    p.update(extra)
    return list(p.items())


def sms(**extra):
    p = {"AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "MessageSid": MSG, "SmsSid": MSG, "SmsMessageSid": MSG,
         "From": CALLER, "To": HOTLINE, "Body": "Hi, do you service furnaces in Calgary?", "NumMedia": "0",
         "NumSegments": "1", "FromCountry": "CA", "ToCountry": "CA"}
    p.update(extra)
    return list(p.items())


def event(path, query, params, method="POST"):
    url = BASE_URL + path + ("?" + query if query else "")
    body = urllib.parse.urlencode(params) if params is not None else None
    headers = {"host": "127.0.0.1:9000", "user-agent": "TwilioProxy/1.1"}
    if params is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
        headers["x-twilio-signature"] = signature(url, params)
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "127",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "54.172.60.1",
                     "userAgent": "TwilioProxy/1.1"},
            "requestId": "local-" + path.strip("/"),
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "21/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795262400000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


EVENTS = {
    "voice-frontdoor": event("/voice-frontdoor", "", voice(CallStatus="ringing")),
    "voice-consent": event("/voice-consent", "", voice(Digits="1")),
    "voice-menu-handler": event("/voice-menu-handler", "attempt=1&repeats=0", voice(Digits="1")),
    "voice-menu-handler-invalid": event("/voice-menu-handler", "attempt=1&repeats=0", voice(Digits="5")),
    "voice-route-action": event("/voice-route-action", "department=sales",
                                voice(DialCallStatus="no-answer", DialCallSid="CA00000000000000000000000000000001", DialCallDuration="0")),
    "voice-voicemail": event("/voice-voicemail", "reason=no-answer", voice()),
    "voice-voicemail-done": event("/voice-voicemail", "step=done",
                                  voice(Digits="#", RecordingSid=REC, RecordingDuration="7",
                                        RecordingUrl=f"http://127.0.0.1:9181/2010-04-01/Accounts/{ACCOUNT}/Recordings/{REC}")),
    "voice-recording-callback": event("/voice-recording-callback", "kind=voicemail", [
        ("AccountSid", ACCOUNT), ("CallSid", CALL), ("RecordingSid", REC), ("RecordingStatus", "completed"),
        ("RecordingDuration", "7"), ("RecordingChannels", "1"), ("RecordingSource", "RecordVerb"),
        ("RecordingUrl", f"http://127.0.0.1:9181/2010-04-01/Accounts/{ACCOUNT}/Recordings/{REC}")]),
    "voice-transcription-callback": event("/voice-transcription-callback", "", [
        ("AccountSid", ACCOUNT), ("CallSid", CALL), ("RecordingSid", REC),
        ("TranscriptionSid", "TR5f2b0e4c9d8a7b6c5d4e3f2a1b0c9d8e"), ("TranscriptionStatus", "completed"),
        ("TranscriptionText", "Hi, please call me back about a quote.")]),
    "voice-status": event("/voice-status", "", [
        ("AccountSid", ACCOUNT), ("CallSid", CALL), ("CallStatus", "completed"), ("CallDuration", "63"),
        ("From", CALLER), ("To", HOTLINE), ("Timestamp", "Sat, 21 Nov 2026 12:01:03 +0000"), ("SequenceNumber", "3")]),
    "voice-stream-status": event("/voice-stream-status", "", [
        ("AccountSid", ACCOUNT), ("CallSid", CALL), ("StreamSid", "MZ5f2b0e4c9d8a7b6c5d4e3f2a1b0c9d8e"),
        ("StreamName", "MZ5f2b0e4c9d8a7b6c5d4e3f2a1b0c9d8e"), ("StreamEvent", "stream-started"),
        ("Timestamp", "2026-11-21T12:00:01.250Z")]),
    "voice-stream-action": event("/voice-stream-action", "lang=en", voice()),
    "voice-relay-action": event("/voice-relay-action", "lang=en", voice(
        SessionId="VX5f2b0e4c9d8a7b6c5d4e3f2a1b0c9d8e", SessionStatus="ended", SessionDuration="42",
        HandoffData='{"reasonCode":"transfer","reason":"caller asked for a person"}')),
    "voice-fallback": event("/voice-fallback", "", voice(ErrorCode="11200", ErrorUrl=BASE_URL + "/voice-frontdoor")),
    "voice-health": event("/voice-health", "", None, method="GET"),
    "webcomms-sms-reply": event("/webcomms-sms-reply", "", sms()),
    "webcomms-sms-reply-legacy": event("/twilio/sms", "", sms(MessageSid=MSG2, SmsSid=MSG2, SmsMessageSid=MSG2, Body="HELP", From=HELP_SENDER)),
    "webcomms-sms-reply-mms": event("/webcomms-sms-reply", "", sms(
        MessageSid=MMS, SmsSid=MMS, SmsMessageSid=MMS, Body="Here is the leak", NumMedia="1", From=MMS_SENDER,
        MediaContentType0="image/png",
        MediaUrl0=f"http://127.0.0.1:9181/2010-04-01/Accounts/{ACCOUNT}/Messages/{MMS}/Media/ME5f2b0e4c9d8a7b6c5d4e3f2a1b0c9d8e")),
    "webcomms-sms-reply-whatsapp": event("/webcomms-sms-reply", "", sms(
        MessageSid=WA, SmsSid=WA, SmsMessageSid=WA, Body="Hi, are you open Saturday?",
        From="whatsapp:" + WA_SENDER, To="whatsapp:" + HOTLINE, ProfileName="Sam Lee",
        WaId=WA_SENDER.lstrip("+"))),
    "webcomms-sms-status": event("/webcomms-sms-status", "", [
        ("AccountSid", ACCOUNT), ("MessageSid", MSG3), ("SmsSid", MSG3), ("MessageStatus", "delivered"),
        ("SmsStatus", "delivered"), ("From", HOTLINE), ("To", CALLER), ("ApiVersion", "2010-04-01")]),
    "webcomms-sms-status-legacy": event("/twilio/sms-status", "", [
        ("AccountSid", ACCOUNT), ("MessageSid", MSG3), ("MessageStatus", "undelivered"), ("ErrorCode", "21610"),
        ("ErrorMessage", "Attempt to send to unsubscribed recipient"), ("From", HOTLINE), ("To", OPTED_OUT)]),
}


def ops_event(method, path, query=""):
    ev = event(path, query, None, method=method)
    ev["requestContext"]["authorizer"] = {"iam": {
        "accessKey": "AKIAEXAMPLE", "accountId": "123456789012", "callerId": "AIDAEXAMPLE",
        "userArn": "arn:aws:iam::123456789012:user/operator", "userId": "AIDAEXAMPLE"}}
    ev["headers"].pop("user-agent", None)
    return ev


SCHEDULED = {
    "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
    "source": "aws.events", "account": "123456789012", "time": "2026-11-21T12:00:00Z", "region": "ca-central-1",
    "resources": ["arn:aws:events:ca-central-1:123456789012:rule/tradeline-monitor-every-minute"], "detail": {},
}

def contact_event():
    ev = event("/contact-submit", "", None)
    ev["headers"] = {"host": "127.0.0.1:9000", "content-type": "application/json",
                     "origin": "http://127.0.0.1:8080", "user-agent": "Mozilla/5.0"}
    ev["requestContext"]["http"]["sourceIp"] = "198.51.100.7"
    ev["requestContext"]["http"]["userAgent"] = "Mozilla/5.0"
    ev["body"] = json.dumps({"name": "Sam Lee", "email": "sam@example.com", "phone": "+14035550123",
                             "message": "Do you service furnaces in Calgary?"})
    return ev


EVENTS.update({
    "contact-submit": contact_event(),
    "ops-api-active-calls": ops_event("GET", "/ops/calls/active"),
    "ops-api-voicemails": ops_event("GET", "/ops/voicemails", "status=new"),
    "ops-api-summary": ops_event("GET", "/ops/metrics/summary"),
    "telephony-monitor": SCHEDULED,
})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "events"))
    args = ap.parse_args()
    for name, ev in EVENTS.items():
        with open(os.path.join(args.out, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(ev, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()

"""The frontdoor work of frontdoor_case.json done with the official `twilio` PyPI package
(RequestValidator + twiml.voice_response), timed in batches; prints the median microseconds per
iteration and the TwiML it wrote (run.py compares it with ours). Run by infra/bench/run.py."""
import json
import os
import time
from importlib.metadata import version
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

c = json.load(open(os.path.join(os.path.dirname(__file__), "frontdoor_case.json")))
validator = RequestValidator(c["token"])
signature = validator.compute_signature(c["url"], dict(parse_qsl(c["body"])))


def once():
    params = dict(parse_qsl(c["body"], keep_blank_values=True))
    if not validator.validate(c["url"], params, signature):
        raise ValueError("invalid")
    if not params.get("CallSid"):
        raise ValueError("no CallSid")
    r = VoiceResponse()
    r.say(c["greeting"], voice=c["voice"], language=c["language"])
    g = r.gather(input="dtmf speech", action=c["consent_url"], method="POST", num_digits=1, timeout=5,
                 action_on_empty_result=True, language=c["language"], hints=c["hints"], speech_timeout="auto")
    g.say(c["consent_question"], voice=c["voice"], language=c["language"])
    g.say(c["offer_switch"], voice=c["offer_voice"], language=c["offer_language"])
    return str(r)


for _ in range(2000):
    once()
samples = []
batch = 500
for _ in range(15):
    t0 = time.perf_counter_ns()
    for _ in range(batch):
        once()
    samples.append((time.perf_counter_ns() - t0) / 1000 / batch)
samples.sort()
print(json.dumps({"impl": "twilio-python " + version("twilio"), "median_us": samples[len(samples) // 2],
                  "twiml": once()}))

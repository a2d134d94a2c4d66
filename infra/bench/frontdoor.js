// The frontdoor work of frontdoor_case.json done with the official `twilio` npm package
// (validateRequest + twiml.VoiceResponse), timed like criterion: warm-up, then batches; prints
// the median microseconds per iteration and the TwiML it wrote (run.py compares it with ours).
// Run by infra/bench/run.py.
const fs = require('fs');
const path = require('path');
const twilio = require('twilio');

const c = JSON.parse(fs.readFileSync(path.join(__dirname, 'frontdoor_case.json'), 'utf8'));
const signature = (() => {
  const params = Object.fromEntries(new URLSearchParams(c.body));
  return twilio.getExpectedTwilioSignature(c.token, c.url, params);
})();

function once() {
  const params = Object.fromEntries(new URLSearchParams(c.body));
  if (!twilio.validateRequest(c.token, signature, c.url, params)) throw new Error('invalid');
  if (!params.CallSid) throw new Error('no CallSid');
  const r = new twilio.twiml.VoiceResponse();
  r.say({ voice: c.voice, language: c.language }, c.greeting);
  const g = r.gather({ input: 'dtmf speech', action: c.consent_url, method: 'POST', numDigits: 1,
                       timeout: 5, actionOnEmptyResult: true, language: c.language, hints: c.hints,
                       speechTimeout: 'auto' });
  g.say({ voice: c.voice, language: c.language }, c.consent_question);
  g.say({ voice: c.offer_voice, language: c.offer_language }, c.offer_switch);
  return r.toString();
}

const batch = 2000;
for (let i = 0; i < 20000; i++) once();
const samples = [];
for (let b = 0; b < 30; b++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) once();
  samples.push(Number(process.hrtime.bigint() - t0) / 1000 / batch);
}
samples.sort((a, b) => a - b);
console.log(JSON.stringify({ impl: 'twilio-node ' + require('twilio/package.json').version,
                             median_us: samples[Math.floor(samples.length / 2)], twiml: once() }));

// The frontdoor webhook as a Node.js 22 Lambda function with the official packages: `twilio`
// (validateRequest, twiml.VoiceResponse) and `@aws-sdk/client-dynamodb` (v3). It does the same
// work as functions/voice-frontdoor on a first delivery: check X-Twilio-Signature, claim the
// CallSid (conditional UpdateItem on the calls table) while reading the dialled number (GetItem
// numbers), then count the caller's rate-limit windows (conditional UpdateItem per window) while
// looking up a known caller (GetItem contacts), and answer the greeting TwiML (Say + Gather for
// the recording consent). Run by tests/src/bin/coldstart.rs under the same Runtime API emulator
// and CPU share as our bootstraps; `runtime.js` is the loop Lambda's Node.js runtime runs.
const twilio = require('twilio');
const {
  DynamoDBClient, GetItemCommand, UpdateItemCommand, ConditionalCheckFailedException,
} = require('@aws-sdk/client-dynamodb');

const env = process.env;
const ddb = new DynamoDBClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL });
const limits = (env.RATE_LIMITS || '10/60').split(',').map((l) => {
  const [max, secs] = l.split('/').map(Number);
  return { max, secs };
});
const retention = 90 * 86400;
const S = (v) => ({ S: String(v) });
const N = (v) => ({ N: String(v) });

async function claim(sid, from, to, now) {
  try {
    await ddb.send(new UpdateItemCommand({
      TableName: env.CALLS_TABLE,
      Key: { pk: S(sid) },
      UpdateExpression: 'SET #kind = :kind, #from = :from, #to = :to, frontdoor_at = :now, updated_at = :now, expires_at = :exp, active = :one, #day = :day',
      ConditionExpression: 'attribute_not_exists(frontdoor_at)',
      ExpressionAttributeNames: { '#kind': 'kind', '#from': 'from', '#to': 'to', '#day': 'day' },
      ExpressionAttributeValues: {
        ':kind': S('call'), ':from': S(from), ':to': S(to), ':now': N(now), ':exp': N(now + retention),
        ':one': S('1'), ':day': S(new Date(now * 1000).toISOString().slice(0, 10)),
      },
    }));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

async function hit(from, limit, now) {
  const start = now - (now % limit.secs);
  try {
    await ddb.send(new UpdateItemCommand({
      TableName: env.RATE_LIMITS_TABLE,
      Key: { pk: S(`${from}#${limit.secs}#${start}`) },
      UpdateExpression: 'ADD hits :one SET expires_at = :end',
      ConditionExpression: 'attribute_not_exists(hits) OR hits < :limit',
      ExpressionAttributeValues: { ':one': N(1), ':end': N(start + limit.secs), ':limit': N(limit.max) },
    }));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

exports.handler = async (event) => {
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  const url = `${env.PUBLIC_BASE_URL}${event.rawPath}${query}`;
  const params = Object.fromEntries(new URLSearchParams(event.body || ''));
  const signature = event.headers['x-twilio-signature'] || '';
  if (!twilio.validateRequest(env.TWILIO_AUTH_TOKEN, signature, url, params)) {
    return { statusCode: 403, body: 'invalid signature' };
  }
  if (!params.CallSid) return { statusCode: 400, body: 'no CallSid' };
  const now = Math.floor(Date.now() / 1000);
  const from = params.From || 'anonymous';
  const to = params.To || '';
  const [, numberOut] = await Promise.all([
    claim(params.CallSid, from, to, now),
    ddb.send(new GetItemCommand({ TableName: env.NUMBERS_TABLE, Key: { e164: S(to) } })),
  ]);
  const number = numberOut.Item || {};
  const org = (number.org_id && number.org_id.S) || 'default';
  const [allowed, contact] = await Promise.all([
    Promise.all(limits.map((l) => hit(from, l, now))).then((r) => r.every(Boolean)),
    env.CONTACTS_TABLE
      ? ddb.send(new GetItemCommand({ TableName: env.CONTACTS_TABLE, Key: { pk: S(`${org}#${from}`) } }))
      : Promise.resolve({}),
  ]);
  const r = new twilio.twiml.VoiceResponse();
  if (!allowed) {
    r.reject({ reason: 'busy' });
  } else {
    const business = (number.business_name && number.business_name.S) || env.BUSINESS_NAME;
    const notice = `Thank you for calling ${business}. Calls may be recorded for quality and training, but only with your permission.`;
    const voice = { voice: 'Polly.Joanna-Neural', language: 'en-US' };
    r.say(voice, contact.Item && contact.Item.first_name ? `Welcome back, ${contact.Item.first_name.S}. ${notice}` : notice);
    const g = r.gather({ input: 'dtmf speech', action: `${env.PUBLIC_BASE_URL}/voice-consent?lang=en`, method: 'POST',
                         numDigits: 1, timeout: 5, actionOnEmptyResult: true, language: 'en-US',
                         hints: 'yes, no, sales, support, voicemail', speechTimeout: 'auto' });
    g.say(voice, 'Press 1 or say yes to allow this call to be recorded. Press 2 or say no to continue without recording.');
    g.say({ voice: 'Polly.Gabrielle-Neural', language: 'fr-CA' }, 'Pour le service en français, faites le 8.');
  }
  return { statusCode: 200, headers: { 'content-type': 'text/xml; charset=utf-8' }, body: r.toString() };
};

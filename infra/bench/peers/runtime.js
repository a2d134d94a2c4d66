// The Lambda Runtime API loop (AWS "Using the Lambda runtime API for custom runtimes"), as
// Lambda's Node.js runtime runs it around a handler: load the module (the init), then GET
// /next, call the handler, POST its result, forever. Usage: node runtime.js <module.js>.
const http = require('http');
const path = require('path');

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime/invocation';
const { handler } = require(path.resolve(process.argv[2]));

function call(method, p, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: p, method, agent,
      headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

(async () => {
  for (;;) {
    const next = await call('GET', `${base}/next`);
    const id = next.headers['lambda-runtime-aws-request-id'];
    try {
      const out = await handler(JSON.parse(next.body));
      await call('POST', `${base}/${id}/response`, JSON.stringify(out));
    } catch (e) {
      await call('POST', `${base}/${id}/error`, JSON.stringify({ errorMessage: String(e), errorType: e.name }));
    }
  }
})();

// The app: every few seconds POSTs a card, an email and a benign payload to
// UPSTREAM_URL, logging one RESULT line per request. Node's http ignores
// HTTP_PROXY, so the app sends through the proxy explicitly when HTTP_PROXY
// is set, unless IGNORE_PROXY=1 (an app that bypasses the proxy variables:
// only transparent capture still catches it).
const http = require('node:http');
const target = new URL(process.env.UPSTREAM_URL);
const proxyUrl = process.env.IGNORE_PROXY === '1' ? undefined : process.env.HTTP_PROXY;
const proxy = proxyUrl ? new URL(proxyUrl) : undefined;
const payloads = {
  card: JSON.stringify({ note: 'order 7', card: process.env.CARD }),
  email: JSON.stringify({ note: 'ticket 9', contact: process.env.EMAIL }),
  benign: JSON.stringify({ note: 'benign-marker-42' }),
};

function send(name, body) {
  return new Promise((resolve) => {
    const where = proxy
      ? { host: proxy.hostname, port: proxy.port, path: target.href }
      : { host: target.hostname, port: target.port, path: target.pathname + target.search };
    const req = http.request(
      { ...where, method: 'POST', timeout: 10000, headers: { host: target.host, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ name, status: res.statusCode, body: text.slice(0, 500) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ name, status: 0, error: err.message }));
    req.end(body);
  });
}

let round = 0;
async function once() {
  round += 1;
  for (const [name, body] of Object.entries(payloads)) {
    const result = await send(name, body);
    console.log(`RESULT ${JSON.stringify({ round, via: proxy ? 'HTTP_PROXY' : 'direct', ...result })}`);
  }
}
(async () => {
  for (;;) {
    await once();
    await new Promise((r) => setTimeout(r, 3000));
  }
})();

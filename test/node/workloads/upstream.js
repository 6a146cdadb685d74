// The in-cluster upstream: answers every request with what it received, and
// logs each body on one line so the e2e can tell what reached it.
const http = require('node:http');
http
  .createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      console.log(`RECEIVED ${JSON.stringify({ method: req.method, url: req.url, body })}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ received: body }));
    });
  })
  .listen(8080, () => console.log('upstream listening on 8080'));

#!/usr/bin/env node
'use strict';
// The demo's stand-in for an external API: echoes back what it received, so
// the demo can show that a redacted request arrived masked. Listens on a
// free loopback port and prints {"port":N} once ready.
const http = require('node:http');

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const payload = JSON.stringify({ upstream: 'demo-api', method: req.method, path: req.url, received: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  });
});
// With DEMO_TLS_CERT/DEMO_TLS_KEY the same API also listens over HTTPS.
const tlsServer = process.env.DEMO_TLS_CERT
  ? require('node:https').createServer({ cert: require('node:fs').readFileSync(process.env.DEMO_TLS_CERT), key: require('node:fs').readFileSync(process.env.DEMO_TLS_KEY) }, (req, res) => server.emit('request', req, res))
  : undefined;
server.listen(0, '127.0.0.1', () => {
  if (!tlsServer) return process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  tlsServer.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port, tlsPort: tlsServer.address().port })}\n`);
  });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

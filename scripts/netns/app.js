#!/usr/bin/env node
// The "application" in a pod namespace: performs one network action given
// as JSON in argv[2] and prints one JSON line with what it saw. Errors are
// results too ({"error":"ECONNREFUSED"}), since refusals are what some tests expect.
//   {"kind":"http","host":"10.213.0.2","port":8080,"method":"POST","path":"/x","headers":{},"body":"..."}
//   {"kind":"https","host":"10.213.0.2","port":8443,"servername":"api.test","ca":"/ca.pem","path":"/"}
//   {"kind":"tcp","host":"10.213.0.2","port":7000,"send":"hello"}
'use strict';
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const fs = require('node:fs');

const action = JSON.parse(process.argv[2]);
const done = (obj) => {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
  process.exit(0);
};
// A safety bound so a black-holed connection cannot hang a test; never a measured threshold.
setTimeout(() => done({ error: 'APP_TIMEOUT' }), action.timeoutMs || 15000).unref();

function httpLike(mod, extra) {
  const req = mod.request(
    { host: action.host, port: action.port, method: action.method || 'GET', path: action.path || '/', headers: action.headers || {}, agent: false, ...extra },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => done({ error: err.code || err.message }));
    },
  );
  req.on('error', (err) => done({ error: err.code || err.message }));
  req.end(action.body);
}

if (action.kind === 'http') httpLike(http, {});
else if (action.kind === 'https') {
  httpLike(https, { servername: action.servername, ca: action.ca ? fs.readFileSync(action.ca) : undefined });
} else if (action.kind === 'tcp') {
  const sock = net.connect({ host: action.host, port: action.port });
  const chunks = [];
  sock.on('connect', () => sock.write(action.send || ''));
  sock.on('data', (c) => chunks.push(c));
  sock.on('end', () => done({ received: Buffer.concat(chunks).toString('utf8') }));
  sock.on('error', (err) => done({ error: err.code || err.message, received: Buffer.concat(chunks).toString('utf8') }));
} else done({ error: `unknown action ${action.kind}` });

#!/usr/bin/env node
// A recording "internet" for namespace tests: HTTP, cleartext HTTP/2
// (h2c), HTTPS and raw TCP servers on the addresses given as JSON in
// argv[2]; every arrival is one JSON line on stdout, so a test sees exactly
// what got past the proxy.
//   {"http":[{"name":"web","host":"10.213.0.2","port":8080}],
//    "h2c":[{"name":"grpc-ish","host":"10.213.0.2","port":8081}],
//    "https":[{"name":"tls","host":"10.213.0.2","port":8443,"cert":"/x.pem","key":"/x.key"}],
//    "tcp":[{"name":"raw","host":"10.213.0.2","port":7000}]}
'use strict';
const http = require('node:http');
const http2 = require('node:http2');
const https = require('node:https');
const net = require('node:net');
const fs = require('node:fs');

const config = JSON.parse(process.argv[2] || '{}');
const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
let pending = 0;
const listening = () => {
  if (--pending === 0) emit({ event: 'listening' });
};

function recordRequests(name, kind) {
  return (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      emit({
        event: kind,
        name,
        method: req.method,
        url: req.url,
        host: req.headers.host || req.headers[':authority'],
        httpVersion: req.httpVersion,
        via: req.headers.via,
        servername: req.socket.servername || undefined,
        body: body.toString('utf8').slice(0, 4000),
        remote: req.socket.remoteAddress,
        local: `${req.socket.localAddress}:${req.socket.localPort}`,
      });
      const payload = JSON.stringify({ upstream: name, received: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      res.end(payload);
    });
  };
}

for (const l of config.http || []) {
  pending++;
  http.createServer(recordRequests(l.name, 'http')).listen(l.port, l.host, listening);
}
for (const l of config.h2c || []) {
  pending++;
  http2.createServer(recordRequests(l.name, 'h2c')).listen(l.port, l.host, listening);
}
for (const l of config.https || []) {
  pending++;
  https
    .createServer({ cert: fs.readFileSync(l.cert), key: fs.readFileSync(l.key) }, recordRequests(l.name, 'https'))
    .on('tlsClientError', (err) => emit({ event: 'tls-error', name: l.name, code: err.code || err.message }))
    .listen(l.port, l.host, listening);
}
for (const l of config.tcp || []) {
  pending++;
  net
    .createServer((sock) => {
      sock.once('data', (d) => {
        emit({ event: 'tcp', name: l.name, data: d.toString('utf8'), remote: sock.remoteAddress, local: `${sock.localAddress}:${sock.localPort}` });
        sock.end(`echo:${d.toString('utf8')}`);
      });
      sock.on('error', () => undefined);
    })
    .listen(l.port, l.host, listening);
}
if (pending === 0) emit({ event: 'listening' });

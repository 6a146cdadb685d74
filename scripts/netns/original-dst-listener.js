#!/usr/bin/env node
// Stands where the proxy would (same port, same uid) and reports, per
// accepted connection, the original destination the redirect recorded
// (SO_ORIGINAL_DST through the project's native addon), then closes it.
// argv[2]: port. Needs the build (dist/) and the addon.
'use strict';
const net = require('node:net');
const path = require('node:path');
const { loadNativeBinding } = require(path.join(__dirname, '../../dist/proxy/native/index.js'));

const loaded = loadNativeBinding();
if (!loaded.ok) {
  process.stderr.write(`${loaded.reason}\n`);
  process.exit(1);
}
const binding = loaded.binding;
const server = net.createServer((sock) => {
  let original;
  try {
    original = binding.getOriginalDst(sock._handle.fd);
  } catch (err) {
    original = { error: err.code || err.name, errno: err.errno };
  }
  process.stdout.write(`${JSON.stringify({ event: 'redirected', original, uid: process.getuid() })}\n`);
  sock.end('intercepted');
});
server.listen({ port: Number(process.argv[2]), host: '::' }, () => process.stdout.write(`${JSON.stringify({ event: 'listening' })}\n`));

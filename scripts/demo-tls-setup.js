#!/usr/bin/env node
'use strict';
// The demo's certificates, made with kube-dlp's own CA code: a tenant CA for
// interception (DIR/ca/tls.crt and tls.key, the layout of a kubernetes.io/tls
// Secret), and a private CA with a "localhost" certificate for the demo API's
// HTTPS port (the proxy trusts it through --upstream-ca-file).
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { InterceptCa } = require('../dist/proxy/tls/intercept-ca');

async function main(dir) {
  const day = 24 * 60 * 60 * 1000;
  mkdirSync(join(dir, 'ca'), { recursive: true });
  const tenant = await InterceptCa.create({ commonName: 'kube-dlp demo tenant CA', lifetimeMs: day });
  writeFileSync(join(dir, 'ca', 'tls.crt'), tenant.certPem);
  writeFileSync(join(dir, 'ca', 'tls.key'), tenant.keyPem, { mode: 0o600 });
  const upstreamCa = await InterceptCa.create({ commonName: 'demo API private CA', lifetimeMs: day });
  writeFileSync(join(dir, 'upstream-ca.pem'), upstreamCa.certPem);
  const leaf = await (await InterceptCa.load(upstreamCa)).mint('localhost');
  writeFileSync(join(dir, 'upstream.crt'), leaf.chainPem);
  writeFileSync(join(dir, 'upstream.key'), leaf.keyPem, { mode: 0o600 });
}

main(process.argv[2]).catch((err) => {
  process.stderr.write(`demo-tls-setup: ${err.message}\n`);
  process.exit(1);
});

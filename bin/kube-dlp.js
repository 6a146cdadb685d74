#!/usr/bin/env -S node --initial-old-space-size=48
'use strict';
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm run build`.
//
// Node runs through `env -S` for the V8 flag on the first line: node refuses
// it in NODE_OPTIONS, and V8 reads it only when the process starts. V8 starts
// a full collection when the old generation reaches a limit it sets from the
// live heap, ~24 MB for the sidecar, and the Buffers that carry bodies
// outside the heap count against it: under 64 KiB POSTs the sidecar ran a
// mark-compact every ~180 ms. With the limit starting at 48 MB, bench:proxy
// measured 20-25% less sidecar CPU per 64 KiB request, the same idle RSS, and
// no more RSS after load or during a 1 GiB upload. The bench starts its
// kube-dlp with the flags read from this line, as the image runs it.
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('kube-dlp: dist/ is missing; run `npm run build` (or `make build`) first\n');
  process.exit(2);
}
require(entry).main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`kube-dlp: ${err && err.message ? err.message : err}\n`); process.exitCode = 2; },
);

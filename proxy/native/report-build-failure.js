#!/usr/bin/env node
// Runs when `node-gyp rebuild --directory proxy/native` fails during
// `npm install`. The Vectorscan addon is optional, so the install must still
// succeed: say what is missing, then exit 0 (kube-dlp falls back to RE2).
'use strict';

const { spawnSync } = require('node:child_process');

function succeeds(command, args) {
  try {
    return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
}

const missing = [];
if (!succeeds('pkg-config', ['--version'])) {
  missing.push('pkg-config (the build asks it where libhs is)');
} else if (!succeeds('pkg-config', ['--exists', 'libhs'])) {
  missing.push('the Vectorscan/Hyperscan headers and library (pkg-config cannot find libhs)');
}
if (!succeeds('g++', ['--version']) && !succeeds('c++', ['--version'])) missing.push('a C++17 compiler (g++)');
if (!succeeds('make', ['--version'])) missing.push('make');

const lines = [
  '',
  'kube-dlp: the native Vectorscan addon (proxy/native/build/Release/kube_dlp_hs.node) could not be built.',
  missing.length > 0
    ? `  Missing: ${missing.join('; ')}.`
    : '  The prerequisites look present; see the node-gyp output above for the compiler error.',
  '  To build it: apt-get install libvectorscan-dev pkg-config g++ make',
  '               (or Intel Hyperscan: libhyperscan-dev), then run',
  '               npx node-gyp rebuild --directory proxy/native',
  '  Until then kube-dlp still works: it falls back to the RE2 engine.',
  '',
];
process.stderr.write(lines.join('\n'));
process.exit(0);

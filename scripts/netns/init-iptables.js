#!/usr/bin/env node
// Runs exactly the `kube-dlp init-iptables` command module from dist/, on a
// program of its own, so namespace tests do not depend on how the main CLI
// wires its sub-commands.
'use strict';
const path = require('node:path');
const { Command } = require('commander');
const { registerInitIptablesCommand } = require(path.join(__dirname, '../../dist/cli/init-iptables-command.js'));

const program = new Command('kube-dlp').exitOverride();
registerInitIptablesCommand(program);
program.parseAsync(['node', 'kube-dlp', 'init-iptables', ...process.argv.slice(2)]).then(
  () => process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0),
  (err) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  },
);

// The redirect rules as data: exact rule lists per family, the order that
// makes exemptions win, idempotent application and removal (against a
// recording runner), the dry-run script and option validation. The same
// rules are applied to a real kernel in test/integration/netns-capture.test.ts.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCapturePlan, parseCidrList, parsePortList, type CaptureOptions } from '../../proxy/transparent/capture-rules';
import {
  installCapture,
  ipv6InUse,
  removeCapture,
  renderCaptureScript,
  type CommandResult,
  type CommandRunner,
} from '../../proxy/transparent/capture-apply';
import { CaptureApplyError, CaptureOptionsError } from '../../proxy/transparent/errors';
import { runInitIptables, type InitIptablesOptions } from '../../cli/init-iptables-command';
import { UsageError } from '../../cli/exit-codes';

const base: CaptureOptions = { proxyPort: 15001, proxyUid: 1337 };

const ruleLines = (input: string) => input.split('\n').filter((l) => l.startsWith('-A '));

t.test('minimal IPv4 plan: loopback and the proxy uid exempt, then REDIRECT', async (t) => {
  const plan = buildCapturePlan(base, 'ipv4');
  t.same(plan.chains, ['KUBEDLP_OUTPUT']);
  t.same(plan.restoreInput.split('\n'), [
    '*nat',
    ':KUBEDLP_OUTPUT - [0:0]',
    '-A KUBEDLP_OUTPUT -o lo -j RETURN',
    '-A KUBEDLP_OUTPUT -d 127.0.0.0/8 -j RETURN',
    '-A KUBEDLP_OUTPUT -m owner --uid-owner 1337 -j RETURN',
    '-A KUBEDLP_OUTPUT -p tcp -j REDIRECT --to-ports 15001',
    'COMMIT',
    '',
  ]);
  t.same(plan.hooks, [{ table: 'nat', chain: 'OUTPUT', rule: ['-p', 'tcp', '-j', 'KUBEDLP_OUTPUT'] }]);
  t.same(plan.obsolete, { hooks: [{ table: 'nat', chain: 'PREROUTING', rule: ['-p', 'tcp', '-j', 'KUBEDLP_INBOUND'] }], chains: ['KUBEDLP_INBOUND'] }, 'inbound capture of an earlier run is removed');
});

t.test('full plan: exclusions per family, gid, ranges, inbound with admin port kept out', async (t) => {
  const opts: CaptureOptions = {
    ...base,
    proxyGid: 1338,
    adminPort: 15090,
    excludePorts: parsePortList('excludePorts', '5432, 9000-9100'),
    excludeCidrs: parseCidrList('excludeCidrs', '10.96.0.0/12,fd00::/8,169.254.169.254'),
    inboundPorts: parsePortList('inbound', '8080'),
  };
  const v4 = buildCapturePlan(opts, 'ipv4');
  t.same(ruleLines(v4.restoreInput), [
    '-A KUBEDLP_OUTPUT -o lo -j RETURN',
    '-A KUBEDLP_OUTPUT -d 127.0.0.0/8 -j RETURN',
    '-A KUBEDLP_OUTPUT -m owner --uid-owner 1337 -j RETURN',
    '-A KUBEDLP_OUTPUT -m owner --gid-owner 1338 -j RETURN',
    '-A KUBEDLP_OUTPUT -d 10.96.0.0/12 -j RETURN',
    '-A KUBEDLP_OUTPUT -d 169.254.169.254/32 -j RETURN',
    '-A KUBEDLP_OUTPUT -p tcp --dport 5432 -j RETURN',
    '-A KUBEDLP_OUTPUT -p tcp --dport 9000:9100 -j RETURN',
    '-A KUBEDLP_OUTPUT -p tcp -j REDIRECT --to-ports 15001',
    '-A KUBEDLP_INBOUND -p tcp --dport 15090 -j RETURN',
    '-A KUBEDLP_INBOUND -p tcp --dport 15001 -j RETURN',
    '-A KUBEDLP_INBOUND -p tcp --dport 8080 -j REDIRECT --to-ports 15001',
  ]);
  t.match(v4.restoreInput, /^\*nat\n:KUBEDLP_OUTPUT - \[0:0\]\n:KUBEDLP_INBOUND - \[0:0\]\n/, 'both chains declared (and so flushed) first');
  t.same(v4.hooks.map((h) => h.chain), ['OUTPUT', 'PREROUTING']);

  const v6 = buildCapturePlan(opts, 'ipv6');
  t.same(ruleLines(v6.restoreInput).slice(0, 5), [
    '-A KUBEDLP_OUTPUT -o lo -j RETURN',
    '-A KUBEDLP_OUTPUT -d ::1/128 -j RETURN',
    '-A KUBEDLP_OUTPUT -m owner --uid-owner 1337 -j RETURN',
    '-A KUBEDLP_OUTPUT -m owner --gid-owner 1338 -j RETURN',
    '-A KUBEDLP_OUTPUT -d fd00::/8 -j RETURN',
  ]);
  t.notMatch(v6.restoreInput, /10\.96|169\.254/, 'IPv4 networks stay out of ip6tables');
});

t.test('inbound "all" redirects everything but the kept ports', async (t) => {
  const plan = buildCapturePlan({ ...base, adminPort: 15090, inboundPorts: 'all', excludeInboundPorts: [{ from: 22, to: 22 }] }, 'ipv4');
  t.same(ruleLines(plan.restoreInput).filter((l) => l.includes('INBOUND')), [
    '-A KUBEDLP_INBOUND -p tcp --dport 15090 -j RETURN',
    '-A KUBEDLP_INBOUND -p tcp --dport 15001 -j RETURN',
    '-A KUBEDLP_INBOUND -p tcp --dport 22 -j RETURN',
    '-A KUBEDLP_INBOUND -p tcp -j REDIRECT --to-ports 15001',
  ]);
});

t.test('the REDIRECT is the last rule of the output chain: every exemption is seen first', async (t) => {
  const plan = buildCapturePlan({ ...base, excludePorts: [{ from: 1, to: 2 }], excludeCidrs: parseCidrList('x', '1.2.3.0/24') }, 'ipv4');
  const out = ruleLines(plan.restoreInput).filter((l) => l.startsWith('-A KUBEDLP_OUTPUT'));
  t.match(out.at(-1)!, /REDIRECT --to-ports 15001$/);
  t.equal(out.filter((l) => l.includes('REDIRECT')).length, 1);
});

t.test('invalid options are refused with the option named', async (t) => {
  const cases: Array<[Partial<CaptureOptions>, string]> = [
    [{ proxyPort: 0 }, 'proxyPort'],
    [{ proxyPort: 70000 }, 'proxyPort'],
    [{ proxyUid: 0 }, 'proxyUid'],
    [{ proxyUid: -1 }, 'proxyUid'],
    [{ adminPort: 1.5 }, 'adminPort'],
    [{ excludePorts: [{ from: 15000, to: 15010 }] }, 'excludePorts'],
    [{ chainPrefix: 'kube dlp' }, 'chainPrefix'],
  ];
  for (const [over, option] of cases) {
    t.throws(() => buildCapturePlan({ ...base, ...over }, 'ipv4'), { name: 'CaptureOptionsError', option }, option);
  }
  t.throws(() => parsePortList('excludePorts', '22,abc'), CaptureOptionsError);
  t.throws(() => parsePortList('excludePorts', '90-80'), /greater than its end/);
  t.throws(() => parseCidrList('excludeCidrs', '10.0.0.0/33'), /prefix length/);
  t.same(parsePortList('p', ' 1 , ,2-3,'), [{ from: 1, to: 1 }, { from: 2, to: 3 }], 'blanks are ignored');
});

/** A fake iptables: remembers which hook rules exist, answers -C/-I/-D/-S like the real tools. */
function fakeIptables(opts: { failRestore?: boolean; ipv6Nat?: boolean } = {}) {
  const calls: Array<{ command: string; args: string[]; input?: string }> = [];
  const hooks = new Map<string, number>();
  const chains = new Set<string>();
  const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
  const run: CommandRunner = async (command, args, input) => {
    calls.push({ command, args, input });
    if (command.startsWith('ip6') && opts.ipv6Nat === false) return { code: 3, stdout: '', stderr: "can't initialize ip6tables table `nat'" };
    if (command.endsWith('-restore')) {
      if (opts.failRestore) return { code: 1, stdout: '', stderr: 'iptables-restore: line 3 failed' };
      for (const m of (input ?? '').matchAll(/^:(\S+)/gm)) chains.add(`${command}:${m[1]}`);
      return ok();
    }
    const a = args.filter((x, i) => !(x === '-w' || args[i - 1] === '-w'));
    const op = a[2]!;
    const key = `${command}:${a.slice(3).join(' ')}`;
    if (op === '-C') return hooks.has(key) ? ok() : { code: 1, stdout: '', stderr: 'Bad rule' };
    if (op === '-I') {
      const k = `${command}:${[a[3], ...a.slice(5)].join(' ')}`;
      hooks.set(k, (hooks.get(k) ?? 0) + 1);
      return ok();
    }
    if (op === '-D') {
      const n = hooks.get(key) ?? 0;
      if (n === 0) return { code: 1, stdout: '', stderr: 'Bad rule' };
      if (n === 1) hooks.delete(key);
      else hooks.set(key, n - 1);
      return ok();
    }
    if (op === '-S') return a[3] === 'OUTPUT' || chains.has(`${command}-restore:${a[3]}`) ? ok() : { code: 1, stdout: '', stderr: 'No chain' };
    if (op === '-F') return ok();
    if (op === '-X') {
      chains.delete(`${command}-restore:${a[3]}`);
      return ok();
    }
    return { code: 2, stdout: '', stderr: `unexpected ${op}` };
  };
  return { run, calls, hooks, chains };
}

t.test('install is idempotent: chain contents via restore, the jump inserted once', async (t) => {
  const fake = fakeIptables();
  const plan = buildCapturePlan(base, 'ipv4');
  await installCapture(plan, fake.run);
  await installCapture(plan, fake.run);
  t.same([...fake.hooks.entries()], [['iptables:OUTPUT -p tcp -j KUBEDLP_OUTPUT', 1]], 'one jump after two runs');
  const restores = fake.calls.filter((c) => c.command === 'iptables-restore');
  t.equal(restores.length, 2);
  t.same(restores[0]!.args, ['--noflush', '-w', '5'], '--noflush keeps every other chain');
  t.equal(restores[0]!.input, plan.restoreInput);
  const inserts = fake.calls.filter((c) => c.args.includes('-I'));
  t.equal(inserts.length, 1);
  t.same(inserts[0]!.args, ['-w', '5', '-t', 'nat', '-I', 'OUTPUT', '1', '-p', 'tcp', '-j', 'KUBEDLP_OUTPUT'], 'inserted first in OUTPUT');
});

t.test('re-running without inbound ports removes the inbound capture of an earlier run', async (t) => {
  const fake = fakeIptables();
  await installCapture(buildCapturePlan({ ...base, inboundPorts: 'all' }, 'ipv4'), fake.run);
  t.ok(fake.hooks.has('iptables:PREROUTING -p tcp -j KUBEDLP_INBOUND'));
  t.ok(fake.chains.has('iptables-restore:KUBEDLP_INBOUND'));
  await installCapture(buildCapturePlan(base, 'ipv4'), fake.run);
  t.notOk(fake.hooks.has('iptables:PREROUTING -p tcp -j KUBEDLP_INBOUND'));
  t.notOk(fake.chains.has('iptables-restore:KUBEDLP_INBOUND'));
  t.ok(fake.hooks.has('iptables:OUTPUT -p tcp -j KUBEDLP_OUTPUT'));
  t.match(renderCaptureScript([buildCapturePlan(base, 'ipv4')]), /while iptables -w 5 -t nat -D PREROUTING -p tcp -j KUBEDLP_INBOUND 2>\/dev\/null; do :; done/);
});

t.test('legacy and nft variants pick their binaries', async (t) => {
  const fake = fakeIptables();
  await installCapture(buildCapturePlan(base, 'ipv6'), fake.run, 'legacy');
  t.same([...new Set(fake.calls.map((c) => c.command))], ['ip6tables-legacy-restore', 'ip6tables-legacy']);
});

t.test('a failing restore stops before any jump is added', async (t) => {
  const fake = fakeIptables({ failRestore: true });
  await t.rejects(installCapture(buildCapturePlan(base, 'ipv4'), fake.run), CaptureApplyError);
  t.equal(fake.hooks.size, 0);
});

t.test('remove deletes duplicated jumps and our chains, and is idempotent', async (t) => {
  const fake = fakeIptables();
  const plan = buildCapturePlan({ ...base, inboundPorts: 'all' }, 'ipv4');
  await installCapture(plan, fake.run);
  fake.hooks.set('iptables:OUTPUT -p tcp -j KUBEDLP_OUTPUT', 2); // someone added it by hand too
  t.equal(await removeCapture('ipv4', fake.run), 3);
  t.equal(fake.hooks.size, 0);
  t.equal(fake.chains.size, 0);
  t.equal(await removeCapture('ipv4', fake.run), 0, 'second removal finds nothing and does not fail');
});

t.test('dry-run script: runnable shell with the same restore input and guarded inserts', async (t) => {
  const plans = [buildCapturePlan(base, 'ipv4'), buildCapturePlan(base, 'ipv6')];
  const script = renderCaptureScript(plans);
  t.match(script, /^#!\/bin\/sh\n/);
  t.match(script, /set -e/);
  t.ok(script.includes(`iptables-restore --noflush -w 5 <<'KUBEDLP_RULES'\n${plans[0]!.restoreInput.trimEnd()}\nKUBEDLP_RULES`));
  t.ok(script.includes('ip6tables-restore --noflush -w 5'));
  t.ok(script.includes('iptables -w 5 -t nat -C OUTPUT -p tcp -j KUBEDLP_OUTPUT 2>/dev/null || iptables -w 5 -t nat -I OUTPUT 1 -p tcp -j KUBEDLP_OUTPUT'));
});

t.test('ipv6InUse reads /proc/net/if_inet6: loopback and link-local do not count', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'if_inet6');
  writeFileSync(file, '00000000000000000000000000000001 01 80 10 80       lo\nfe800000000000000000000000000001 02 40 20 80     eth0\n');
  t.equal(await ipv6InUse(file), false);
  writeFileSync(file, 'fd000000000000000000000000000002 02 40 00 80     eth0\n', { flag: 'a' });
  t.equal(await ipv6InUse(file), true);
  t.equal(await ipv6InUse(join(dir, 'missing')), false, 'IPv6 disabled: nothing to capture');
});

const cliOpts = (over: Partial<InitIptablesOptions> = {}): InitIptablesOptions => ({
  proxyPort: '15001',
  proxyUid: '1337',
  adminPort: '15090',
  ipv6: 'on',
  iptables: 'default',
  ...over,
});

t.test('CLI: dry-run prints and runs nothing', async (t) => {
  const fake = fakeIptables();
  let printed = '';
  const code = await runInitIptables(cliOpts({ dryRun: true, excludePorts: '22' }), fake.run, (s) => (printed += s));
  t.equal(code, 0);
  t.equal(fake.calls.length, 0);
  t.match(printed, /--dport 22 -j RETURN/);
  t.match(printed, /ip6tables-restore/);
  printed = '';
  await runInitIptables(cliOpts({ dryRun: true, ipv6: 'off' }), fake.run, (s) => (printed += s));
  t.notMatch(printed, /ip6tables/);
});

t.test('CLI: installs both families; --ipv6 on fails closed when ip6tables nat is missing', async (t) => {
  const fake = fakeIptables();
  t.equal(await runInitIptables(cliOpts(), fake.run, () => undefined), 0);
  t.ok(fake.hooks.has('iptables:OUTPUT -p tcp -j KUBEDLP_OUTPUT'));
  t.ok(fake.hooks.has('ip6tables:OUTPUT -p tcp -j KUBEDLP_OUTPUT'));

  const no6 = fakeIptables({ ipv6Nat: false });
  t.equal(await runInitIptables(cliOpts(), no6.run, () => undefined), 3, 'exit 3: the init container fails');
});

t.test('CLI: usage errors name the flag', async (t) => {
  const fake = fakeIptables();
  await t.rejects(runInitIptables(cliOpts({ proxyUid: '0' }), fake.run, () => undefined), UsageError);
  await t.rejects(runInitIptables(cliOpts({ proxyPort: 'x' }), fake.run, () => undefined), /--proxy-port/);
  await t.rejects(runInitIptables(cliOpts({ excludeCidrs: 'nope' }), fake.run, () => undefined), /--exclude-cidrs "nope"/);
  await t.rejects(runInitIptables(cliOpts({ ipv6: 'maybe' }), fake.run, () => undefined), /--ipv6/);
  await t.rejects(runInitIptables(cliOpts({ iptables: 'ebpf' }), fake.run, () => undefined), /--iptables/);
  t.equal(fake.calls.length, 0);
});

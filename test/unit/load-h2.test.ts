// HTTP/2 is loaded by the first connection that speaks it (proxy/h2/load-h2.ts):
// a started proxy must hold none of it, and the loader must hand out the
// real classes.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { h2ServerModule, newH2Upstream } from '../../proxy/h2/load-h2';
import { InterceptedH2Server } from '../../proxy/h2/h2-server';
import { H2Upstream } from '../../proxy/h2/h2-upstream';

const ROOT = join(__dirname, '..', '..');

t.test('a started proxy has loaded neither node:http2 nor the h2 exchange', async (t) => {
  const script = `
    const { startProxy } = require(${JSON.stringify(join(ROOT, 'proxy', 'start-proxy'))});
    const pino = require('pino');
    startProxy({
      profilePath: ${JSON.stringify(join(ROOT, 'config', 'samples', 'securityprofile-protect.yaml'))},
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      identity: { pod: 'p', namespace: 'n', tenant: 't' },
      audit: { file: '/dev/null' },
      logger: pino({ level: 'silent' }),
    }).then(async (running) => {
      const h2Files = Object.keys(require.cache).filter((f) => /[\\\\/]h2[\\\\/]h2-/.test(f));
      const builtins = (process.moduleLoadList || []).filter((m) => /\\bhttp2\\b/.test(m));
      await running.stop(100);
      process.stdout.write(JSON.stringify({ h2Files, builtins, listened: running.proxyAddress.port > 0 }));
    });
  `;
  const out = JSON.parse(execFileSync(process.execPath, [...process.execArgv, '-e', script], { encoding: 'utf8' })) as {
    h2Files: string[];
    builtins: string[];
    listened: boolean;
  };
  t.ok(out.listened, 'the proxy started');
  t.same(out.h2Files, [], 'no proxy/h2 module but the loader');
  t.same(out.builtins, [], 'node:http2 not loaded');
});

t.test('the loader hands out the h2 classes themselves', async (t) => {
  t.equal(h2ServerModule().InterceptedH2Server, InterceptedH2Server);
  const upstream = newH2Upstream({ address: '127.0.0.1', port: 1 });
  t.ok(upstream instanceof H2Upstream);
  t.equal(upstream.scheme, 'http');
});

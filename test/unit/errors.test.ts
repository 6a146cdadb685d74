// One error base (KdlpError) with a stable KDLP_* code, and the HTTP status
// carried by the error (or the refusal table), not written at call sites.
import t from 'tap';
import ts from 'typescript';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { KdlpError } from '../../proxy/errors/kdlp-error';
import { TargetError, UpstreamError, classifyUpstreamError } from '../../proxy/http/errors';
import { InterceptError, TlsOriginationError } from '../../proxy/tls/errors';
import { ProfileError } from '../../proxy/profile/errors';
import { TenantDirectoryError, TenancyConfigError } from '../../proxy/tenancy/errors';
import { EgressRuleError } from '../../proxy/policy/egress';
import { BodyReadError } from '../../proxy/inspect-pipeline/hold-back';
import { HsCompileError, NativeUnavailableError } from '../../proxy/native';
import { DecodeError } from '../../proxy/scan/decode/errors';
import { DetectorCompileError, EngineUnavailableError, ScanOverflowError, StreamClosedError } from '../../proxy/scan/errors';
import { WebSocketProtocolError } from '../../proxy/websocket/errors';
import { CaptureApplyError, CaptureOptionsError, Ipv6CaptureUnavailableError, OriginalDestinationError } from '../../proxy/transparent/errors';
import { KubeApiError, OperatorError, TenantCaError, WebhookOptionsError } from '../../operator/errors';
import { ProposalNotFoundError } from '../../operator/discover/proposal-client';
import { PrometheusQueryError } from '../../cli/compliance/prometheus-api';
import { PdfRenderError } from '../../cli/compliance/render-pdf';
import { UsageError } from '../../cli/exit-codes';
import { DECISIONS } from '../../proxy/outcome/decision';
import { REFUSAL_STATUS, refusalOf } from '../../proxy/server/refusals';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

t.test('no error class extends Error directly: KdlpError is the one base', async (t) => {
  const direct: string[] = [];
  let classes = 0;
  for (const file of ['proxy', 'operator', 'cli'].flatMap((d) => sources(join(ROOT, d)))) {
    const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    const visit = (node: ts.Node): void => {
      if ((ts.isClassDeclaration(node) || ts.isClassExpression(node)) && node.heritageClauses) {
        for (const clause of node.heritageClauses) {
          if (clause.token !== ts.SyntaxKind.ExtendsKeyword) continue;
          const base = clause.types[0]?.expression.getText(src);
          if (base && /^(Error|TypeError|RangeError|SyntaxError)$/.test(base)) {
            classes++;
            if (relative(ROOT, file) !== join('proxy', 'errors', 'kdlp-error.ts')) direct.push(`${relative(ROOT, file)}: ${node.name?.text ?? '(anonymous)'} extends ${base}`);
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(src);
  }
  t.equal(classes, 1 + direct.length, 'the walk sees class declarations');
  t.same(direct, []);
});

t.test('the operator has one errors module and one resource table', async (t) => {
  const operatorFiles = sources(join(ROOT, 'operator')).map((f) => relative(ROOT, f));
  t.same(
    operatorFiles.filter((f) => /(^|\/)errors\.ts$/.test(f)),
    [join('operator', 'errors.ts')],
    'errors live in operator/errors.ts',
  );
  const tables = operatorFiles.filter((f) => /:\s*ResourceType\s*=|\bcore\(|\bapps\(/.test(readFileSync(join(ROOT, f), 'utf8')));
  t.same(tables, [join('operator', 'kube', 'resources.ts')], 'API resources are declared in operator/kube/resources.ts only');
});

const SAMPLES: Array<[Function, KdlpError]> = [
  [TargetError, new TargetError('KDLP_BAD_TARGET', 400, 'bad_target', 'x')],
  [UpstreamError, new UpstreamError('KDLP_UPSTREAM_TIMEOUT', 504, 'x')],
  [TlsOriginationError, new TlsOriginationError('KDLP_TLS_CA_UNREADABLE', 'x')],
  [InterceptError, new InterceptError('KDLP_INTERCEPT_CA_INVALID', 'x')],
  [ProfileError, new ProfileError('KDLP_PROFILE_INVALID', [{ path: 'spec', message: 'x' }])],
  [TenantDirectoryError, new TenantDirectoryError('KDLP_TENANTS_INVALID', [{ path: '', message: 'x' }])],
  [TenancyConfigError, new TenancyConfigError('x')],
  [EgressRuleError, new EgressRuleError('r', 'x')],
  [BodyReadError, new BodyReadError(new Error('x'))],
  [HsCompileError, new HsCompileError('x', -1, -1)],
  [NativeUnavailableError, new NativeUnavailableError('x')],
  [DecodeError, new DecodeError('KDLP_DECODE_CORRUPT', 'x')],
  [DetectorCompileError, new DetectorCompileError('d', 'x')],
  [EngineUnavailableError, new EngineUnavailableError('vectorscan', 'x')],
  [ScanOverflowError, new ScanOverflowError(1)],
  [StreamClosedError, new StreamClosedError()],
  [WebSocketProtocolError, new WebSocketProtocolError(1002, 'x')],
  [CaptureOptionsError, new CaptureOptionsError('--x', 'x')],
  [CaptureApplyError, new CaptureApplyError('iptables', 1, 'x')],
  [Ipv6CaptureUnavailableError, new Ipv6CaptureUnavailableError('x')],
  [OriginalDestinationError, new OriginalDestinationError('x')],
  [OperatorError, new OperatorError('KDLP_KUBE_CONFIG', 'x')],
  [KubeApiError, new KubeApiError('GET', '/api', 404, 'NotFound', 'x')],
  [WebhookOptionsError, new WebhookOptionsError('x')],
  [TenantCaError, new TenantCaError('KDLP_TENANT_CA_MISSING', 'x')],
  [ProposalNotFoundError, new ProposalNotFoundError('ns')],
  [PrometheusQueryError, new PrometheusQueryError('up', 'x')],
  [PdfRenderError, new PdfRenderError('x')],
  [UsageError, new UsageError('x')],
];

t.test('every error: a KdlpError with a stable KDLP_* code and its class name', async (t) => {
  for (const [cls, err] of SAMPLES) {
    t.ok(err instanceof KdlpError, `${cls.name} is a KdlpError`);
    t.ok(err instanceof Error, `${cls.name} is an Error`);
    t.match(err.code, /^KDLP_[A-Z0-9_]+$/, `${cls.name} code ${err.code}`);
    t.equal(err.name, cls.name, `${cls.name} name`);
  }
});

t.test('the HTTP status travels with the error', async (t) => {
  t.equal(new UpstreamError('KDLP_UPSTREAM_TIMEOUT', 504, 'x').status, 504);
  t.equal(classifyUpstreamError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).status, 502);
  t.equal(new TargetError('KDLP_PROXY_LOOP', 508, 'loop', 'x').status, 508);
  t.equal(new TlsOriginationError('KDLP_TLS_CA_UNREADABLE', 'x').status, 502, 'TLS origination failures answer 502');
  t.equal(new KubeApiError('GET', '/api', 404, 'NotFound', 'x').status, 404);
  t.equal(new ProfileError('KDLP_PROFILE_INVALID', []).status, undefined, 'no status where none applies');
});

t.test('refusals are a table: every refusing decision has a 4xx/5xx status and an error word', async (t) => {
  for (const decision of DECISIONS) {
    const row = REFUSAL_STATUS[decision];
    if (!row) continue;
    t.ok(row.status >= 400 && row.status < 600, `${decision}: ${row.status}`);
    t.match(row.error, /^[a-z_]+$/);
    t.same(refusalOf(decision), row);
  }
  t.same(refusalOf('allowed'), { status: 403, error: 'blocked' }, 'a decision missing from the table refuses as blocked');
});

// Inspection of everything before the body: the URL (host, path, query, and
// their decoded forms) and the request headers (Authorization, cookies,
// custom headers). Each is laid out as one buffer so the engine is called
// once per request, not once per header, and findings are mapped back to the
// header they sit in.
import type { OutgoingHttpHeaders } from 'node:http';
import type { RuntimeConfig } from '../profile';
import type { Finding } from '../scan/types';
import { formatHostPort, type HttpTarget } from '../http/destination';
import { inspectPayload, type ScanMeter } from './scan-support';
import type { LocatedFinding, Uninspectable } from './verdict';

interface HeaderSpan {
  name: string;
  /** Where the name starts in the laid-out buffer (the line's start). */
  nameStart: number;
  /** Index within a multi-valued header. */
  index: number;
  valueStart: number;
  valueEnd: number;
}

export interface MetadataScan {
  findings: LocatedFinding[];
  uninspectable?: Uninspectable;
  /** `host:port` for the audit log, with findings in the host masked. */
  auditDestination: string;
  /** Path and query for the audit log, with findings masked (query values are removed later). */
  auditPath: string;
  /** Replace redactable findings in the URL and headers; returns the path and headers to forward. */
  redact(toRedact: readonly LocatedFinding[], path: string, headers: OutgoingHttpHeaders): { path: string; headers: OutgoingHttpHeaders };
}

/** Headers we never inspect: the destination (scanned in the URL) and framing. */
const SKIPPED_HEADERS = new Set(['host', 'content-length', 'via']);

export function scanRequestMetadata(cfg: RuntimeConfig, meter: ScanMeter, target: HttpTarget, headers: OutgoingHttpHeaders): MetadataScan {
  const { inspection } = cfg.spec;
  const scanner = cfg.scanner;
  const hostPort = formatHostPort(target.destination);
  const urlBuf = Buffer.from(hostPort + target.path, 'latin1');
  const hostLength = hostPort.length;
  const findings: LocatedFinding[] = [];
  let uninspectable: Uninspectable | undefined;
  const urlFindings: Finding[] = [];

  if (inspection.url) {
    const url = inspectPayload(cfg, meter, urlBuf, { source: 'url' });
    uninspectable ??= url.uninspectable;
    for (const f of url.findings) {
      urlFindings.push(f);
      findings.push({
        finding: f,
        place: 'url',
        unredactable:
          f.start < hostLength ? 'in the destination host' : f.view !== undefined ? `only visible in the decoded URL (${f.view})` : undefined,
      });
    }
  }

  const spans: HeaderSpan[] = [];
  let headerBuf: Buffer = Buffer.alloc(0);
  const headerFindings: Finding[] = [];
  if (inspection.headers) {
    const layout = layoutHeaders(headers);
    headerBuf = layout.buf;
    spans.push(...layout.spans);
    if (headerBuf.length > 0) {
      const scanned = inspectPayload(cfg, meter, headerBuf, { source: 'header' });
      uninspectable ??= scanned.uninspectable;
      const label = headerLabels(scanner, headerBuf, spans, scanned.findings);
      for (const f of scanned.findings) {
        headerFindings.push(f);
        // Spans are in buffer order; the first whose line ends at or after the start holds it.
        const span = spans.find((s) => f.start <= s.valueEnd) ?? spans[spans.length - 1];
        const inValue = f.start >= span.valueStart && f.end <= span.valueEnd;
        findings.push({
          finding: f,
          place: 'header',
          header: label(span),
          unredactable:
            f.view !== undefined ? `only visible in the decoded header (${f.view})` : inValue ? undefined : 'spans more than one header value',
        });
      }
    }
  }

  const maskedUrl = urlFindings.length > 0 ? scanner.redact(urlBuf, urlFindings).toString('latin1') : urlBuf.toString('latin1');
  return {
    findings,
    uninspectable,
    auditDestination: maskedUrl.slice(0, hostLength),
    auditPath: maskedUrl.slice(hostLength),
    redact(toRedact, path, outHeaders) {
      const urlSpans = toRedact.filter((f) => f.place === 'url').map((f) => f.finding);
      const headerSpans = toRedact.filter((f) => f.place === 'header').map((f) => f.finding);
      let newPath = path;
      if (urlSpans.length > 0) newPath = scanner.redact(urlBuf, urlSpans).toString('latin1').slice(hostLength);
      const newHeaders: OutgoingHttpHeaders = { ...outHeaders };
      if (headerSpans.length > 0) {
        const masked = scanner.redact(headerBuf, headerSpans);
        const touched = spans.filter((s) => headerSpans.some((f) => f.start < s.valueEnd && f.end > s.valueStart));
        for (const s of touched) {
          const value = masked.toString('latin1', s.valueStart, s.valueEnd);
          const current = newHeaders[s.name];
          if (Array.isArray(current)) {
            const copy = [...current];
            copy[s.index] = value;
            newHeaders[s.name] = copy;
          } else {
            newHeaders[s.name] = value;
          }
        }
      }
      return { path: newPath, headers: newHeaders };
    },
  };
}

/**
 * How a header is named in audit lines, reasons and 403 bodies. A header
 * name is client-chosen bytes like any value: one that carries (part of) a
 * finding is written with that part masked, never raw.
 */
function headerLabels(
  scanner: RuntimeConfig['scanner'],
  headerBuf: Buffer,
  spans: readonly HeaderSpan[],
  found: readonly Finding[],
): (span: HeaderSpan) => string {
  const inNames = found.filter((f) => spans.some((s) => f.start < s.nameStart + s.name.length && f.end > s.nameStart));
  if (inNames.length === 0) return (span) => span.name;
  const masked = scanner.redact(headerBuf, inNames);
  return (span) => masked.toString('latin1', span.nameStart, span.nameStart + span.name.length);
}

/** `name: value\n` per header value; latin1 so that byte offsets equal string offsets. */
function layoutHeaders(headers: OutgoingHttpHeaders): { buf: Buffer; spans: HeaderSpan[] } {
  const parts: string[] = [];
  const spans: HeaderSpan[] = [];
  let offset = 0;
  for (const name of Object.keys(headers)) {
    if (SKIPPED_HEADERS.has(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [String(value)];
    values.forEach((v, index) => {
      const prefix = `${name}: `;
      spans.push({ name, index, nameStart: offset, valueStart: offset + prefix.length, valueEnd: offset + prefix.length + v.length });
      const line = `${prefix}${v}\n`;
      parts.push(line);
      offset += line.length;
    });
  }
  return { buf: Buffer.from(parts.join(''), 'latin1'), spans };
}

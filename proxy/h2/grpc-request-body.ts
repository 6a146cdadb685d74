// A gRPC request body through inspection, one message at a time: bytes are
// held until a whole message is in hand, the message is scanned (see
// grpc-message-scan.ts) and judged together with everything found so far,
// and only then forwarded. Nothing of a message leaves before it is
// scanned, and a stream (client-streaming or bidi) keeps flowing message by
// message instead of waiting for the client to finish.
import type { Readable } from 'node:stream';
import type { RuntimeConfig } from '../profile';
import type { ScanMeter } from '../inspect-pipeline/scan-support';
import type { LocatedFinding, Uninspectable, Verdict } from '../inspect-pipeline/verdict';
import { frameGrpcMessage, GrpcFrameReader } from './grpc-frames';
import { inspectGrpcMessage } from './grpc-message-scan';

/** Findings kept per stream (a stream full of cards must not grow the list without bound). */
const MAX_KEPT_FINDINGS = 4096;

export interface GrpcBodyOptions {
  cfg: RuntimeConfig;
  meter: ScanMeter;
  grpcEncoding: string | undefined;
  /** The client's request stream. */
  source: Readable;
  /** The verdict on body findings so far, with what came before (URL, headers). */
  judge(findings: readonly LocatedFinding[], problem: Uninspectable | undefined): Verdict;
  /** Bytes that passed inspection (whole framed messages), in order. Returns false to apply backpressure. */
  forward(bytes: Buffer): boolean;
  /** Resume reading after backpressure: the caller registers `resume` on its sink's 'drain'. */
  onDrain(resume: () => void): void;
  /** The body ended and everything passed. */
  end(verdict: Verdict, bytes: number): void;
  /** A verdict blocked: nothing of this message was forwarded. `forwardedBefore` tells whether earlier messages were. */
  block(verdict: Verdict, forwardedBefore: boolean, bytes: number): void;
}

export function relayGrpcBody(opts: GrpcBodyOptions): void {
  const { cfg, source } = opts;
  const reader = new GrpcFrameReader(cfg.spec.inspection.maxBodyBytes);
  const findings: LocatedFinding[] = [];
  let problem: Uninspectable | undefined;
  let verdict = opts.judge([], undefined);
  let forwardedAny = false;
  let passThrough = false;
  let stopped = false;
  let bytes = 0;

  let waiting = false;
  const send = (chunk: Buffer): void => {
    forwardedAny = true;
    if (!opts.forward(chunk) && !waiting) {
      // The upstream is slower than the client: stop reading until it drains.
      waiting = true;
      source.pause();
      opts.onDrain(() => {
        waiting = false;
        if (!stopped) source.resume();
      });
    }
  };
  const stop = (now: Verdict): void => {
    stopped = true;
    source.off('data', onData);
    source.off('end', onEnd);
    source.resume();
    opts.block(now, forwardedAny, bytes);
  };

  const onData = (chunk: Buffer): void => {
    if (stopped) return;
    bytes += chunk.length;
    if (passThrough) return send(chunk);
    const framed = reader.push(chunk);
    for (const message of framed.messages) {
      const scanned = inspectGrpcMessage(cfg, opts.meter, message, opts.grpcEncoding);
      for (const f of scanned.findings) if (findings.length < MAX_KEPT_FINDINGS) findings.push(f);
      problem ??= scanned.uninspectable;
      verdict = opts.judge(findings, problem);
      if (verdict.outcome === 'block') return stop(verdict);
      if (verdict.outcome === 'redact') {
        const mine = verdict.toRedact.filter((f) => scanned.findings.includes(f)).map((f) => f.finding);
        if (mine.length > 0) {
          send(frameGrpcMessage({ compressed: message.compressed, payload: cfg.scanner.redact(message.payload, mine) }));
          continue;
        }
      }
      send(frameGrpcMessage(message));
    }
    if (framed.problem) {
      // The messages before the bad prefix were judged above; what follows it cannot be.
      problem ??= framed.problem;
      verdict = opts.judge(findings, problem);
      if (verdict.outcome === 'block') return stop(verdict);
      // Not refused (Monitor, or uninspectable content allowed here): the rest goes through unscanned.
      passThrough = true;
      send(reader.takeHeld());
    }
  };
  const onEnd = (): void => {
    if (stopped) return;
    const cutShort = passThrough ? undefined : reader.end();
    if (cutShort) {
      // A message cut short is never forwarded in part; the upstream sees the stream end before it.
      problem ??= cutShort;
      verdict = opts.judge(findings, problem);
      if (verdict.outcome === 'block') return stop(verdict);
    }
    stopped = true;
    opts.end(verdict, bytes);
  };
  source.on('data', onData);
  source.once('end', onEnd);
}

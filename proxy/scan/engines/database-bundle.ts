// Compile once, ship everywhere: the compiled Vectorscan databases of a
// detector set as one byte string a ConfigMap can carry (binaryData), so a
// sidecar deserializes in milliseconds what would take it seconds to
// compile. Compressed, because a serialized database is ~1.5 MB and a
// ConfigMap holds at most 1 MiB; gzip brings each to ~200 KB.
//
// A bundle is trusted only when everything about it matches this process:
// format, libhs version, CPU architecture, the pattern set of each
// database (same digest the in-process cache uses), each body's sha256,
// the database's own info() string, and a known-answer test: every
// detector's first positive example must produce a match of one of that
// detector's patterns. An engine whose patterns are split into groups
// (pattern-partition.ts) ships one entry per group and mode; the test runs
// on each mode's groups together, since a detector's patterns may sit in
// different groups. Anything else is a rejection with a reason, and the
// caller compiles as if there were no bundle.
//
// So that a sidecar started from a bundle never runs the compiler at all
// (its code paged in, and start-up time), the bundle also carries what the
// engine would otherwise compile or ask the compiler for: the native
// self-test's databases (self-test.ts), trusted only if they pass it, and
// each pattern's widest match, used only for the exact same pattern
// sources. A bundle without them (an older operator) still serves its
// databases; the sidecar compiles the rest itself.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { CompiledPattern } from '../detector-set';
import type { HsMode, NativeBinding, NativeDatabase } from '../../native';
import { DatabaseSet } from './database-set';
import { SELF_TEST_PATTERN_SET } from '../../native/self-test';

const MAGIC = 'kube-dlp-hsbundle/1';

export interface BundleEntry {
  mode: HsMode;
  /** Digest of patterns and flags (vectorscan-engine.ts cacheKey). */
  patternSet: string;
  db: NativeDatabase;
}

interface HeaderEntry {
  mode: HsMode;
  patternSet: string;
  info: string;
  sha256: string;
  /** Compressed bytes of this entry's body. */
  bytes: number;
}

/** Each pattern's widest match, for the patterns whose sources digest to `patterns`. */
export interface PatternWidths {
  patterns: string;
  values: number[];
}

interface Header {
  magic: string;
  libhs: string;
  arch: string;
  entries: HeaderEntry[];
  /** The self-test's databases; their bodies follow the entries'. */
  selfTest?: HeaderEntry[];
  widths?: PatternWidths;
}

/** What a bundle carries besides the detector databases. */
export interface BundleExtras {
  /** The self-test's databases, patternSet SELF_TEST_PATTERN_SET. */
  selfTest?: readonly BundleEntry[];
  widths?: PatternWidths;
}

/** A database the caller needs: its mode and pattern-set digest. */
export interface WantedDatabase {
  mode: HsMode;
  patternSet: string;
}

export type BundleResult = { ok: true; entries: BundleEntry[]; widths?: PatternWidths } | { ok: false; reason: string };

/** Serializes the databases; header line (JSON), then the gzip bodies in order: entries, then the self-test's. */
export function encodeBundle(binding: NativeBinding, entries: readonly BundleEntry[], extras: BundleExtras = {}): Buffer {
  const bodies: Buffer[] = [];
  const describe = (e: BundleEntry): HeaderEntry => {
    if (typeof e.db.serialize !== 'function') throw new Error('this addon build cannot serialize databases; rebuild proxy/native');
    const raw = e.db.serialize();
    const body = gzipSync(raw, { level: 9 });
    bodies.push(body);
    return { mode: e.mode, patternSet: e.patternSet, info: e.db.info(), sha256: createHash('sha256').update(raw).digest('hex'), bytes: body.length };
  };
  const header: Header = { magic: MAGIC, libhs: binding.version(), arch: process.arch, entries: entries.map(describe) };
  if (extras.selfTest?.length) header.selfTest = extras.selfTest.map(describe);
  if (extras.widths) header.widths = extras.widths;
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), ...bodies]);
}

/** The header, and where the bodies start; or why the bytes are not a bundle this process can use. */
function readHeader(binding: NativeBinding, bytes: Uint8Array): { ok: true; header: Header; data: Buffer; bodiesAt: number } | { ok: false; reason: string } {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nl = data.indexOf(0x0a);
  let header: Header;
  try {
    if (nl < 0) throw new Error('no header line');
    header = JSON.parse(data.subarray(0, nl).toString('utf8')) as Header;
  } catch {
    return { ok: false, reason: 'not a kube-dlp database bundle (unreadable header)' };
  }
  if (header.magic !== MAGIC) return { ok: false, reason: `unknown bundle format ${JSON.stringify(header.magic)}` };
  if (header.libhs !== binding.version()) {
    return { ok: false, reason: `built for libhs ${header.libhs}, this sidecar has ${binding.version()}` };
  }
  if (header.arch !== process.arch) return { ok: false, reason: `built for ${header.arch}, this sidecar runs on ${process.arch}` };
  if (typeof binding.deserialize !== 'function') return { ok: false, reason: 'this addon build cannot deserialize databases' };
  return { ok: true, header, data, bodiesAt: nl + 1 };
}

/** One body, checked against its header entry and deserialized; or what is wrong with it. */
function readDatabase(binding: NativeBinding, data: Buffer, at: number, entry: HeaderEntry): { ok: true; db: NativeDatabase } | { ok: false; reason: string } {
  const { mode } = entry;
  let raw: Buffer;
  try {
    raw = gunzipSync(data.subarray(at, at + entry.bytes));
  } catch {
    return { ok: false, reason: `the ${mode} database is damaged (does not decompress)` };
  }
  if (createHash('sha256').update(raw).digest('hex') !== entry.sha256) {
    return { ok: false, reason: `the ${mode} database is damaged (digest mismatch)` };
  }
  let db: NativeDatabase;
  try {
    db = binding.deserialize!(raw);
  } catch (err) {
    return { ok: false, reason: `libhs refuses the ${mode} database: ${(err as Error).message}` };
  }
  if (db.info() !== entry.info) return { ok: false, reason: `the ${mode} database reports ${db.info()}, not ${entry.info}` };
  return { ok: true, db };
}

const bodyBytes = (entries: readonly HeaderEntry[]) => entries.reduce((sum, e) => sum + e.bytes, 0);

/**
 * The bundle's self-test database for `mode` (native/self-test.ts), or
 * undefined for any reason at all: the caller then compiles its own.
 */
export function bundledSelfTestDatabase(binding: NativeBinding, bytes: Uint8Array, mode: HsMode): NativeDatabase | undefined {
  const read = readHeader(binding, bytes);
  if (!read.ok || !Array.isArray(read.header.entries) || !Array.isArray(read.header.selfTest)) return undefined;
  const { header, data, bodiesAt } = read;
  const selfTest = header.selfTest!;
  const index = selfTest.findIndex((e) => e.mode === mode && e.patternSet === SELF_TEST_PATTERN_SET);
  if (index < 0) return undefined;
  const at = bodiesAt + bodyBytes(header.entries) + bodyBytes(selfTest.slice(0, index));
  const result = readDatabase(binding, data, at, selfTest[index]!);
  return result.ok ? result.db : undefined;
}

/**
 * The bundle's databases if they are all the ones `wanted` on this library
 * and CPU, or why not. `patterns` is the whole detector set.
 */
export function decodeBundle(
  binding: NativeBinding,
  bytes: Uint8Array,
  wanted: readonly WantedDatabase[],
  patterns: readonly CompiledPattern[],
): BundleResult {
  const read = readHeader(binding, bytes);
  if (!read.ok) return read;
  const { header, data, bodiesAt } = read;
  const entries: BundleEntry[] = [];
  const listed = Array.isArray(header.entries) ? header.entries : [];
  for (const { mode, patternSet } of wanted) {
    if (!listed.some((e) => e.mode === mode)) return { ok: false, reason: `no ${mode} database in the bundle` };
    const index = listed.findIndex((e) => e.mode === mode && e.patternSet === patternSet);
    const entry = listed[index];
    if (!entry) return { ok: false, reason: `the ${mode} databases are for another detector set` };
    const result = readDatabase(binding, data, bodiesAt + bodyBytes(listed.slice(0, index)), entry);
    if (!result.ok) return result;
    entries.push({ mode, patternSet, db: result.db });
  }
  for (const mode of new Set(wanted.map((w) => w.mode))) {
    const set = DatabaseSet.of(entries.filter((e) => e.mode === mode).map((e) => e.db));
    const kat = knownAnswerFailure(set, mode, patterns);
    if (kat) return { ok: false, reason: `the ${mode} database fails its known-answer test: ${kat}` };
  }
  return { ok: true, entries, ...(header.widths ? { widths: header.widths } : {}) };
}

/** Each detector's first positive example must match one of its own patterns. */
function knownAnswerFailure(db: NativeDatabase, mode: HsMode, patterns: readonly CompiledPattern[]): string | undefined {
  const byDetector = new Map<string, { example: string; ids: Set<number> }>();
  for (const p of patterns) {
    const example = p.detector.examples?.positive?.[0];
    if (example === undefined) continue;
    const entry = byDetector.get(p.detector.id) ?? { example, ids: new Set<number>() };
    entry.ids.add(p.index);
    byDetector.set(p.detector.id, entry);
  }
  const scratch = db.allocScratch();
  for (const [detector, { example, ids }] of byDetector) {
    const input = Buffer.from(` ${example} `, 'latin1');
    let matches: Float64Array;
    if (mode === 'block') {
      matches = db.scanBlock(input, scratch);
    } else {
      const stream = db.openStream();
      const a = stream.scan(input, scratch);
      const b = stream.close(scratch);
      matches = Float64Array.from([...a, ...b]);
    }
    let hit = false;
    for (let i = 0; i < matches.length && !hit; i += 3) hit = ids.has(matches[i]);
    if (!hit) return `no match of ${detector} on its own example`;
  }
  return undefined;
}

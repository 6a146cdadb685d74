// What kube_dlp_hs.node exports, as types: the contract index.ts loads and
// checks, and the self-test exercises. Types only, so both can import it
// without importing each other.
export type HsMode = 'block' | 'stream';

/**
 * Flat [id, from, to] triplets; `overflow` is set only when the match cap cut
 * the scan short. Read-only by contract (empty results are shared and frozen).
 */
export type MatchTriplets = Float64Array & { overflow?: true };

/** Per-thread working memory of a scan. One scratch serves one scan at a time. */
export interface NativeScratch {
  /** An independent copy, e.g. for another worker's concurrent scans. */
  clone(): NativeScratch;
  /** Bytes of native memory. */
  size(): number;
}

/** A compiled pattern set; freed by the garbage collector. */
export interface NativeDatabase {
  /** Library version, features and mode, e.g. "Version: 5.4.9 Features: AVX2 Mode: BLOCK". */
  info(): string;
  /** Bytes of the compiled database. */
  size(): number;
  /** hs_serialize_database: bytes deserialize() turns back into this database (same libhs version and platform only). Optional: older addon builds lack it. */
  serialize?(): Buffer;
  /** Bytes of state per open stream; 0 for block databases. */
  streamSize(): number;
  /** Scratch big enough for this database. */
  allocScratch(): NativeScratch;
  /**
   * Every match in `buffer` as a whole. A block database scans it with
   * hs_scan; a stream database as one stream opened, fed and closed in the
   * same native call, which gives the same matches. Reads `buffer` in place
   * (only the view's bytes).
   */
  scanBlock(buffer: Uint8Array, scratch: NativeScratch, maxMatches?: number): MatchTriplets;
  /** Stream mode only. */
  openStream(): NativeStream;
}

/** One streaming scan; keeps its database alive while open. */
export interface NativeStream {
  /** Feed the next chunk; offsets are absolute from the stream's start. */
  scan(buffer: Uint8Array, scratch: NativeScratch, maxMatches?: number): MatchTriplets;
  /** End of data: returns the matches only decidable there (e.g. `\b`, `$`) and frees the stream. */
  close(scratch: NativeScratch, maxMatches?: number): MatchTriplets;
  /** Like close(), but the stream starts over at offset 0 instead of being freed. */
  reset(scratch: NativeScratch, maxMatches?: number): MatchTriplets;
  readonly closed: boolean;
}

/** hs_expression_info: widths in bytes; maxWidth is -1 when unbounded. */
export interface ExpressionInfo {
  minWidth: number;
  maxWidth: number;
  unorderedMatches: boolean;
  matchesAtEod: boolean;
  matchesOnlyAtEod: boolean;
}

/** Destination of a connection before iptables redirected it to us. */
export interface OriginalDst {
  address: string;
  port: number;
  family: 4 | 6;
}

/** Exactly what kube_dlp_hs.node exports. Arguments of the wrong type throw TypeError. */
export interface NativeBinding {
  /** hs_compile_multi; throws an Error with code KDLP_HS_COMPILE and expressionIndex. Prefer compileDatabase(). */
  compile(expressions: string[], flags: number[], ids: number[], mode: HsMode): NativeDatabase;
  /** Same as compile, on the libuv thread pool: large sets take seconds and must not stall the event loop. */
  compileAsync(expressions: string[], flags: number[], ids: number[], mode: HsMode): Promise<NativeDatabase>;
  expressionInfo(expression: string, flags: number): ExpressionInfo;
  /** Throws an Error with code KDLP_ORIGINAL_DST, `errno` (positive) and `syscall` when the fd has no redirect record. */
  getOriginalDst(fd: number): OriginalDst;
  version(): string;
  /** Whether this CPU can run the library. */
  platformValid(): boolean;
  /**
   * malloc_trim(0): hands the heap pages the pattern compiler freed back to
   * the OS (tens of MiB after a large compile). True when memory was
   * released; false when nothing was or the C library has no such call.
   * Optional: an addon built before it existed still loads.
   */
  releaseFreeMemory?(): boolean;
  /**
   * V8's LowMemoryNotification: a full collection that compacts the heap and
   * hands emptied pages back. A pause of tens of milliseconds; for idle
   * moments only. Optional: an addon built before it existed still loads.
   */
  compactJsHeap?(): void;
  /** hs_deserialize_database; throws KDLP_HS_ERROR for bytes of another version or platform, or corrupt ones. Optional like serialize. */
  deserialize?(bytes: Uint8Array): NativeDatabase;
}

export type NativeLoadResult = { ok: true; binding: NativeBinding } | { ok: false; reason: string };

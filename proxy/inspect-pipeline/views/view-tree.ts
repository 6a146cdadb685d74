// The tree of streaming views over one body, and its watermark: `safe` is
// the raw offset below which the body and every decoding of it (to
// maxDecodeDepth) has been scanned, so those bytes may be forwarded.
//
//   raw ─┬─ [declared Content-Encoding layers, innermost last] ─ text views
//        ├─ inflater, when an unlabelled body sniffs as gzip/zlib
//        └─ percent|form, json, base64 ─ (the same kinds again, one level deeper)
//           normalized (a leaf)  └─ inflater per run that starts compressed
//
// A view at depth maxDecodeDepth gets probe children: they scan nothing and
// only report that something decodable sits deeper (KDLP_DECODE_DEPTH).
import type { ContentCoding } from '../../scan/decode';
import { hasGzipMagic, hasZlibHeader } from '../../scan/decode/zlib-format';
import { Base64View } from './base64-view';
import { EscapeView, type EscapeKind } from './escape-view';
import { InflateView } from './inflate-view';
import { NormalizeView } from './normalize-view';
import { ViewNode, type TreeContext, type ViewFinding } from './view-node';
import type { ScanMeter } from '../scan-support';
import type { Scanner } from '../../scan/scanner';
import type { Uninspectable } from '../verdict';

export interface ViewTreeOptions {
  scanner: Scanner;
  meter: ScanMeter;
  maxDepth: number;
  tailBytes: number;
  limits: TreeContext['limits'];
  enabled: ReadonlySet<string>;
  /**
   * Content codings in the order they are undone, outermost first: what
   * parseContentEncoding returns (the header lists them the other way round,
   * in the order they were applied).
   */
  undoCodings: readonly ContentCoding[];
  form: boolean;
  found(f: ViewFinding): void;
  problem(u: Uninspectable): void;
}

class RawView extends ViewNode {
  private inBytes = 0;
  sniffed?: 'gzip' | 'deflate';

  constructor(
    tree: TreeContext,
    private readonly compressedAs: string | undefined,
  ) {
    super(tree, '', 0, undefined, false);
  }

  write(chunk: Buffer): void | Promise<void> {
    if (this.inBytes === 0 && this.compressedAs === undefined && chunk.length >= 3) {
      if (hasGzipMagic(chunk) && chunk[2] === 8) this.sniffed = 'gzip';
      else if (hasZlibHeader(chunk)) this.sniffed = 'deflate';
    }
    this.inBytes += chunk.length;
    return this.emit(chunk, undefined, 0);
  }

  flush(): void | Promise<void> {
    return this.endSegment();
  }

  safeInput(): number {
    return this.safeOutput();
  }

  protected override unredactable(): string | undefined {
    // Masking bytes inside a compressed stream would corrupt it.
    return this.compressedAs ? `compressed body (content-encoding ${this.compressedAs})` : undefined;
  }
}

export class ViewTree {
  private readonly root: RawView;
  /** Declared codings still to undo below each declared inflater (and the root). */
  private readonly layersBelow = new Map<ViewNode, ContentCoding[]>();
  private readonly ctx: TreeContext;

  constructor(private readonly opts: ViewTreeOptions) {
    this.ctx = {
      scanner: opts.scanner,
      meter: opts.meter,
      maxDepth: opts.maxDepth,
      tailBytes: opts.tailBytes,
      limits: opts.limits,
      enabled: opts.enabled,
      form: opts.form,
      found: opts.found,
      problem: opts.problem,
      viewsBelow: (parent) => this.viewsBelow(parent),
      inflaterBelow: (parent, kind) => this.inflaterBelow(parent, kind),
    };
    const undo = [...opts.undoCodings];
    this.root = new RawView(this.ctx, undo.length > 0 ? this.declared() : undefined);
    this.layersBelow.set(this.root, undo);
  }

  write(chunk: Buffer): void | Promise<void> {
    return this.root.write(chunk);
  }

  /** The body ended: everything pending is decoded and scanned. */
  end(): void | Promise<void> {
    return this.root.flush();
  }

  /** Raw offset below which every view has been scanned. */
  get safe(): number {
    return this.root.safeInput();
  }

  destroy(): void {
    this.root.destroy();
  }

  /** The codings as the header declared them (applied order), for messages. */
  private declared(): string {
    return [...this.opts.undoCodings].reverse().join(', ');
  }

  private viewsBelow(parent: ViewNode): ViewNode[] {
    const layers = this.layersBelow.get(parent);
    if (layers && layers.length > 0) {
      // Under a declared coding the bytes are compressed: only the next layer makes sense.
      const [next, ...rest] = layers;
      const depth = parent.depth + 1;
      if (depth > this.ctx.maxDepth) {
        this.ctx.problem({
          code: 'KDLP_DECODE_DEPTH',
          reason: `content-encoding ${this.declared()} stacks deeper than inspection.maxDecodeDepth (${this.ctx.maxDepth})`,
        });
        return [];
      }
      if (!this.ctx.enabled.has(next)) {
        this.ctx.problem({ code: 'KDLP_DECODER_DISABLED', reason: `content-encoding ${next} is not among the profile's decoders` });
        return [];
      }
      const layer = new InflateView(this.ctx, next, true, childName(parent, next), depth, parent);
      this.layersBelow.set(layer, rest);
      return [layer];
    }
    const views: ViewNode[] = [];
    if (parent === this.root && this.root.sniffed) {
      const inflater = this.inflaterBelow(parent, this.root.sniffed);
      if (inflater) views.push(inflater);
    }
    if (parent.depth >= this.ctx.maxDepth + 1) return views;
    const depth = parent.depth + 1;
    const probe = depth > this.ctx.maxDepth;
    const enabled = this.ctx.enabled;
    if (enabled.has('percent')) {
      const kind: EscapeKind = parent === this.root && this.opts.form ? 'form' : 'percent';
      views.push(new EscapeView(this.ctx, kind, childName(parent, kind), depth, parent, probe));
    }
    if (enabled.has('json')) views.push(new EscapeView(this.ctx, 'json', childName(parent, 'json'), depth, parent, probe));
    if (enabled.has('base64') || enabled.has('multipart')) views.push(new Base64View(this.ctx, childName(parent, 'base64'), depth, parent, probe));
    // Normalizing is a reading, not an encoding: nothing sits below it, so it is never probed.
    if (enabled.has('normalize') && !probe && !(parent instanceof NormalizeView)) {
      views.push(new NormalizeView(this.ctx, childName(parent, 'normalized'), depth, parent));
    }
    return views;
  }

  private inflaterBelow(parent: ViewNode, kind: 'gzip' | 'deflate'): ViewNode | undefined {
    if (!this.ctx.enabled.has(kind)) return undefined;
    const depth = parent.depth + 1;
    if (depth > this.ctx.maxDepth) {
      this.ctx.problem({
        code: 'KDLP_DECODE_DEPTH',
        reason: `${kind} data nested deeper than inspection.maxDecodeDepth (${this.ctx.maxDepth})${parent.name ? ` under ${parent.name}` : ''}`,
      });
      return undefined;
    }
    return new InflateView(this.ctx, kind, false, childName(parent, kind), depth, parent);
  }
}

function childName(parent: ViewNode, kind: string): string {
  return parent.name === '' ? kind : `${parent.name}>${kind}`;
}

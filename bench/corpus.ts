// A deterministic reference corpus for scan benchmarks: the mix of traffic an
// egress proxy sees (JSON API bodies, prose, base64 blobs, digit-heavy
// lines) with a secret of every default detector planted at known offsets.
import type { DetectorSpec } from '../proxy/scan/types';

export interface PlantedSecret {
  detector: string;
  start: number;
  end: number;
}

export interface Corpus {
  data: Buffer;
  planted: PlantedSecret[];
}

/** xorshift32: deterministic, fast, good enough for filler text. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they ' +
  'you were her all she there would their we him been has when who will more no if out so said what up its about ' +
  'into than them can only other new some could time these two may then do first any my now such like our over ' +
  'order customer invoice shipment account balance request status service region cluster deploy metrics payload'
).split(' ');

export function generateCorpus(size: number, detectors: readonly DetectorSpec[], seed = 42): Corpus {
  const rand = rng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const word = () => WORDS[int(WORDS.length)];
  const digits = (n: number) => {
    let s = String(1 + int(9));
    while (s.length < n) s += String(int(10));
    return s;
  };
  const parts: string[] = [];
  let length = 0;
  const push = (s: string) => {
    parts.push(s);
    length += s.length;
  };

  const jsonBody = () =>
    JSON.stringify({
      id: Number(digits(8 + int(5))),
      ts: 1700000000000 + int(100000000),
      price: (int(100000) / 100).toFixed(2),
      qty: int(50),
      name: `${word()} ${word()}`,
      note: Array.from({ length: 6 + int(10) }, word).join(' '),
      tags: [word(), word(), word()],
    }) + '\n';
  const prose = () => {
    const n = 12 + int(30);
    const w = Array.from({ length: n }, word).join(' ');
    return w[0].toUpperCase() + w.slice(1) + '. ';
  };
  const b64 = () => {
    const raw = Buffer.alloc(48 + int(400));
    for (let i = 0; i < raw.length; i++) raw[i] = int(256);
    return `"blob":"${raw.toString('base64')}"\n`;
  };
  const digitLine = () => Array.from({ length: 4 + int(8) }, () => digits(3 + int(9))).join(' ') + '\n';

  // Mix by bytes: JSON 1/2, prose 1/3, base64 1/7, digit lines 1/20 (rest JSON).
  while (length < size) {
    const r = rand();
    if (r < 0.5) push(jsonBody());
    else if (r < 0.5 + 0.333) push(prose());
    else if (r < 0.5 + 0.333 + 0.143) push(b64());
    else push(digitLine());
  }
  const filler = Buffer.from(parts.join(''), 'latin1').subarray(0, size);

  // Plant every detector's first positive example, spread over the corpus,
  // between separators so it stands on its own as it would in traffic.
  const secrets = detectors.filter((d) => d.examples.positive.length > 0);
  const planted: PlantedSecret[] = [];
  const out = Buffer.from(filler);
  const slot = Math.floor(size / (secrets.length + 1));
  secrets.forEach((d, i) => {
    const example = Buffer.from(` ${d.examples.positive[0]} \n`, 'latin1');
    // Land some plants across 16 KiB boundaries on purpose.
    let at = slot * (i + 1);
    if (i % 3 === 0) at = Math.floor(at / 16384) * 16384 - Math.floor(example.length / 2);
    if (at < 0 || at + example.length > size) return;
    example.copy(out, at);
    planted.push({ detector: d.id, start: at + 1, end: at + example.length - 2 });
  });
  return { data: out, planted };
}

/**
 * `size` bytes of one JSON event line repeated, nothing sensitive in it:
 * the body bench:proxy streams in its upload, and what bench:scan times
 * the pattern split on as plain text.
 */
export function jsonEventLines(size: number): Buffer {
  const line = Buffer.from('{"event":"page_view","path":"/catalog/items","ua":"bench"}\n');
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = line[i % line.length];
  return out;
}

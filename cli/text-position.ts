/** A 1-based line and a 1-based column in UTF-16 code units (SARIF's default). */
export interface TextPosition {
  line: number;
  column: number;
}

/** Positions of many byte offsets in one pass over the line starts. */
export function locate(data: Buffer, offsets: readonly number[]): TextPosition[] {
  const lineStarts: number[] = [0];
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) lineStarts.push(i + 1);
  return offsets.map((offset) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    const column = data.toString('utf8', lineStarts[lo], offset).length + 1;
    return { line: lo + 1, column };
  });
}

// Splitting multipart bodies (RFC 2046 §5.1) into parts, so each part body
// can be decoded according to its own headers.

export interface MultipartPart {
  /** Header names lower-cased; values trimmed. */
  headers: ReadonlyMap<string, string>;
  /** Body span in the multipart buffer. */
  bodyStart: number;
  bodyEnd: number;
}

/** The boundary parameter of a multipart/* content type, or null. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (contentType === undefined || !/^\s*multipart\//i.test(contentType)) return null;
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  if (!match) return null;
  return match[1] ?? match[2];
}

/**
 * Parts between the delimiters, or null when no delimiter is found. Tolerates
 * bare LF line ends, and a missing close delimiter (a cut-off body: the last
 * part runs to the end so it is still inspected).
 */
export function splitMultipart(body: Buffer, boundary: string): MultipartPart[] | null {
  const dash = Buffer.from(`--${boundary}`, 'latin1');
  let at = findDelimiter(body, dash, 0);
  if (at === -1) return null;
  const parts: MultipartPart[] = [];
  for (;;) {
    let cursor = at + dash.length;
    if (body[cursor] === 0x2d && body[cursor + 1] === 0x2d) break; // close delimiter
    // Transport padding, then the line break that ends the delimiter line.
    while (body[cursor] === 0x20 || body[cursor] === 0x09) cursor++;
    if (body[cursor] === 0x0d) cursor++;
    if (body[cursor] === 0x0a) cursor++;
    if (cursor >= body.length) break;

    const next = findDelimiter(body, dash, cursor);
    // The line break before the next delimiter belongs to the delimiter.
    let partEnd = next === -1 ? body.length : next;
    if (next !== -1) {
      if (body[partEnd - 1] === 0x0a) partEnd--;
      if (body[partEnd - 1] === 0x0d) partEnd--;
    }
    parts.push(parsePart(body, cursor, Math.max(cursor, partEnd)));
    if (next === -1) break;
    at = next;
  }
  return parts;
}

/** Next `--boundary` that starts a line at or after `from`. */
function findDelimiter(body: Buffer, dash: Buffer, from: number): number {
  for (let i = body.indexOf(dash, from); i !== -1; i = body.indexOf(dash, i + 1)) {
    if (i === 0 || body[i - 1] === 0x0a) return i;
  }
  return -1;
}

function parsePart(body: Buffer, start: number, end: number): MultipartPart {
  const headers = new Map<string, string>();
  let lineStart = start;
  while (lineStart < end) {
    let lineEnd = body.indexOf(0x0a, lineStart);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    const line = body.toString('latin1', lineStart, lineEnd).replace(/\r$/, '');
    const next = Math.min(end, lineEnd + 1);
    if (line === '') return { headers, bodyStart: next, bodyEnd: end };
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    lineStart = next;
  }
  // Headers never ended: there is no body.
  return { headers, bodyStart: end, bodyEnd: end };
}

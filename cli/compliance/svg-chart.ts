// Small server-side SVG charts: a line chart of time series and a horizontal
// bar chart. Plain strings, no DOM and no browser: the report opens anywhere
// and the same code draws the dashboard panels in tests. Every text that
// comes from data is escaped.
export interface ChartSeries {
  label: string;
  points: ReadonlyArray<readonly [number, number]>;
}

export interface LineChartOptions {
  title: string;
  series: readonly ChartSeries[];
  width?: number;
  height?: number;
  /** Unit shown next to the y axis (e.g. "requests / 15m"). */
  unit?: string;
}

export interface Bar {
  label: string;
  value: number;
}

const PALETTE = ['#c0392b', '#2471a3', '#d68910', '#229954', '#7d3c98', '#17a589', '#a04000', '#5d6d7e', '#b03a2e', '#1f618d'];
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function lineChart(opts: LineChartOptions): string {
  const width = opts.width ?? 720;
  // Legend columns fit the width: about 230 px per entry.
  const columns = Math.max(1, Math.floor(width / 230));
  const legendRows = Math.ceil(opts.series.length / columns);
  const height = (opts.height ?? 260) + legendRows * 16;
  const m = { left: 56, right: 16, top: 30, bottom: 36 + legendRows * 16 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all = opts.series.flatMap((s) => s.points);
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(opts.title)}">`;
  const title = `<text x="${m.left}" y="18" ${FONT} font-size="14" font-weight="bold">${escapeXml(opts.title)}</text>`;
  if (all.length === 0) {
    return `${head}${title}<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ddd"/><text x="${m.left + plotW / 2}" y="${m.top + plotH / 2}" ${FONT} font-size="12" text-anchor="middle" fill="#888">no data in this window</text></svg>`;
  }
  const xMin = Math.min(...all.map((p) => p[0]));
  const xMax = Math.max(...all.map((p) => p[0]));
  const yMax = niceMax(Math.max(...all.map((p) => p[1])));
  const x = (t: number) => m.left + (xMax === xMin ? plotW / 2 : ((t - xMin) / (xMax - xMin)) * plotW);
  const y = (v: number) => m.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [head, title];
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#ccc"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y(v) + 4}" ${FONT} font-size="10" text-anchor="end" fill="#555">${formatNumber(v)}</text>`);
  }
  for (const [t, anchor] of [[xMin, 'start'], [(xMin + xMax) / 2, 'middle'], [xMax, 'end']] as const) {
    parts.push(`<text x="${x(t)}" y="${m.top + plotH + 14}" ${FONT} font-size="10" text-anchor="${anchor}" fill="#555">${escapeXml(formatTime(t))}</text>`);
  }
  if (opts.unit) parts.push(`<text x="12" y="${m.top + plotH / 2}" ${FONT} font-size="10" fill="#555" transform="rotate(-90 12 ${m.top + plotH / 2})" text-anchor="middle">${escapeXml(opts.unit)}</text>`);
  opts.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    if (s.points.length === 1) {
      const [t, v] = s.points[0]!;
      parts.push(`<circle cx="${x(t).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"/>`);
    } else {
      const d = s.points.map(([t, v], j) => `${j === 0 ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    const lx = m.left + (i % columns) * (plotW / columns);
    const ly = m.top + plotH + 30 + Math.floor(i / columns) * 16;
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${lx + 14}" y="${ly}" ${FONT} font-size="11">${escapeXml(truncate(s.label, Math.floor(plotW / columns / 6.5)))}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export function barChart(opts: { title: string; bars: readonly Bar[]; width?: number; unit?: string }): string {
  const width = opts.width ?? 720;
  const rowH = 20;
  const m = { left: 220, right: 60, top: 30, bottom: 10 };
  const height = m.top + m.bottom + Math.max(1, opts.bars.length) * rowH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(opts.title)}">`,
    `<text x="8" y="18" ${FONT} font-size="14" font-weight="bold">${escapeXml(opts.title)}</text>`,
  ];
  if (opts.bars.length === 0) {
    parts.push(`<text x="8" y="${m.top + 14}" ${FONT} font-size="12" fill="#888">no data in this window</text></svg>`);
    return parts.join('');
  }
  const max = Math.max(...opts.bars.map((b) => b.value), 1);
  const plotW = width - m.left - m.right;
  opts.bars.forEach((b, i) => {
    const yTop = m.top + i * rowH;
    const w = Math.max(1, (b.value / max) * plotW);
    parts.push(`<text x="${m.left - 6}" y="${yTop + 14}" ${FONT} font-size="11" text-anchor="end">${escapeXml(truncate(b.label, 34))}</text>`);
    parts.push(`<rect x="${m.left}" y="${yTop + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${PALETTE[i % PALETTE.length]}"/>`);
    parts.push(`<text x="${m.left + w + 4}" y="${yTop + 14}" ${FONT} font-size="11">${formatNumber(b.value)}${opts.unit ? ` ${escapeXml(opts.unit)}` : ''}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const exp = Math.pow(10, Math.floor(Math.log10(v)));
  for (const f of [1, 2, 2.5, 5, 10]) if (v <= f * exp) return f * exp;
  return 10 * exp;
}

export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  // Three significant digits: axis steps like 0.025 stay distinct from 0.03.
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

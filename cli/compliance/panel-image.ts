// A Grafana panel drawn as SVG from query results, with the report's chart
// code: timeseries as lines, bargauge as bars, stat as one big number. Lets a
// person see what a dashboard shows for real data without running Grafana.
import { barChart, escapeXml, formatNumber, lineChart, type Bar, type ChartSeries } from './svg-chart';

export interface PanelData {
  type: string;
  title: string;
  /** Instant results (stat, bargauge), labelled. */
  values?: Bar[];
  /** Range results (timeseries). */
  series?: ChartSeries[];
}

/** Grafana's legend format: `{{label}}` replaced by the series' label value. */
export function legendOf(format: string | undefined, metric: Record<string, string>): string {
  if (format === undefined || format === '' || format === '__auto') {
    const labels = Object.entries(metric).filter(([k]) => k !== '__name__');
    return labels.length === 0 ? 'value' : labels.map(([k, v]) => `${k}=${v}`).join(', ');
  }
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => metric[name] ?? '');
}

export function panelSvg(p: PanelData, width = 480): string {
  if (p.type === 'timeseries') return lineChart({ title: p.title, series: p.series ?? [], width, height: 240 });
  if (p.type === 'bargauge') return barChart({ title: p.title, bars: p.values ?? [], width });
  if (p.type === 'stat') return statSvg(p.title, p.values ?? [], width);
  throw new TypeError(`panel "${p.title}": type ${p.type} is not drawn (timeseries, bargauge and stat are)`);
}

function statSvg(title: string, values: Bar[], width: number): string {
  const total = values.length === 0 ? undefined : values.reduce((a, b) => a + b.value, 0);
  const text = total === undefined ? 'No data' : formatNumber(Math.round(total * 100) / 100);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="120" viewBox="0 0 ${width} 120" role="img" aria-label="${escapeXml(title)}">` +
    `<rect x="0.5" y="0.5" width="${width - 1}" height="119" fill="#fff" stroke="#ccc"/>` +
    `<text x="10" y="22" font-family="Helvetica, Arial, sans-serif" font-size="14" font-weight="bold">${escapeXml(title)}</text>` +
    `<text class="stat-value" x="${width / 2}" y="86" font-family="Helvetica, Arial, sans-serif" font-size="44" text-anchor="middle" fill="${total ? '#c0392b' : '#888'}">${escapeXml(text)}</text>` +
    '</svg>'
  );
}

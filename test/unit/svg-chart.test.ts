// The report's SVG charts and the --since parser: escaping, empty data,
// scaling, and clear errors.
import t from 'tap';
import { barChart, escapeXml, lineChart } from '../../cli/compliance/svg-chart';
import { parseSince } from '../../cli/compliance/build-report';
import { windowTotal } from '../../cli/compliance/report-queries';

t.test('labels and titles are escaped', async (t) => {
  const svg = lineChart({ title: 'a <b> & "c"', series: [{ label: '<script>x</script>', points: [[0, 1], [60, 3]] }] });
  t.notMatch(svg, /<script>/);
  t.match(svg, /a &lt;b&gt; &amp; &quot;c&quot;/);
  t.equal(escapeXml(`'`), '&#39;');
});

t.test('a line chart draws one path per series inside its plot area', async (t) => {
  const svg = lineChart({ title: 't', width: 400, height: 200, series: [{ label: 'a', points: [[0, 0], [10, 5], [20, 10]] }, { label: 'b', points: [[0, 2], [20, 4]] }] });
  const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]!);
  t.equal(paths.length, 2);
  for (const d of paths) {
    for (const [, x, y] of d.matchAll(/[ML]([\d.]+),([\d.]+)/g)) {
      t.ok(Number(x) >= 56 && Number(x) <= 384 && Number(y) >= 30, `point ${x},${y} inside the plot`);
    }
  }
  t.match(svg, /<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});

t.test('no data says so instead of drawing an empty frame silently', async (t) => {
  t.match(lineChart({ title: 't', series: [] }), /no data in this window/);
  t.match(barChart({ title: 't', bars: [] }), /no data in this window/);
});

t.test('bars scale to the largest value', async (t) => {
  const svg = barChart({ title: 'b', width: 500, bars: [{ label: 'x', value: 10 }, { label: 'y', value: 5 }] });
  const widths = [...svg.matchAll(/<rect x="220" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
  t.same(widths, [220, 110]);
});

t.test('--since accepts units and refuses the rest', async (t) => {
  t.equal(parseSince('30d'), 30 * 86400);
  t.equal(parseSince('90m'), 5400);
  t.throws(() => parseSince('30'), /--since must look like 30d/);
  t.throws(() => parseSince('10s'), /at least 1m/);
});

t.test('window totals count series born inside the window in full', async (t) => {
  t.equal(
    windowTotal('m', 'namespace="a"', '60s', ['decision']),
    'sum by (decision) ((max_over_time(m{namespace="a"}[60s]) - m{namespace="a"} offset 60s) or max_over_time(m{namespace="a"}[60s]))',
  );
});

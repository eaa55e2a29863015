// Horizontal bar charts as SVG text: pure and deterministic (the same figures give the same
// bytes), so committed plots can be checked for staleness. No plotting dependency.

/** Who a bar measures: kube-ipvs's code, or the ipvsadm baseline. */
export type Who = 'kube-ipvs' | 'ipvsadm';

export interface Bar {
  label: string;
  /** The figure drawn (a median where there were several runs). */
  value: number;
  /** Fastest and slowest run, drawn as a whisker when there were several. */
  range?: readonly [number, number];
  who: Who;
}

export interface BarChart {
  title: string;
  /** One line under the title: what was measured, and where. */
  subtitle: string;
  unit: 's' | 'ms';
  bars: readonly Bar[];
}

const WIDTH = 760;
const LABEL_WIDTH = 300;
const PLOT_LEFT = LABEL_WIDTH + 10;
const PLOT_WIDTH = 330;
const TOP = 62;
const ROW = 30;
const BAR = 18;
const COLOURS: Record<Who, string> = { 'kube-ipvs': '#2f6db5', ipvsadm: '#9a9a9a' };

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** A figure with three significant digits at most, and its unit. */
export function formatValue(v: number, unit: string): string {
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
}

/** The axis: a 1, 2 or 5 × 10^k step giving at most 6 intervals up to at least `max`. */
export function axisTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power;
  const count = Math.max(1, Math.ceil(max / step - 1e-9));
  return Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

function n(x: number): string {
  return Number(x.toFixed(1)).toString();
}

export function renderBarChart(chart: BarChart): string {
  const top = Math.max(...chart.bars.map((b) => b.range?.[1] ?? b.value));
  const ticks = axisTicks(top);
  const scale = PLOT_WIDTH / (ticks.at(-1) as number);
  const axisY = TOP + chart.bars.length * ROW + 4;
  const height = axisY + 58;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="13">`,
    `<title>${escapeXml(chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${escapeXml(chart.title)}</text>`,
    `<text x="12" y="44" fill="#555555">${escapeXml(chart.subtitle)}</text>`,
  ];
  for (const t of ticks) {
    const x = n(PLOT_LEFT + t * scale);
    out.push(
      `<line x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${axisY}" stroke="#e3e3e3"/>`,
      `<text x="${x}" y="${axisY + 16}" text-anchor="middle" fill="#555555">${n(t)}</text>`,
    );
  }
  out.push(
    `<text x="${n(PLOT_LEFT + PLOT_WIDTH / 2)}" y="${axisY + 34}" text-anchor="middle" fill="#555555">${chart.unit === 's' ? 'seconds' : 'milliseconds'} (shorter is better)</text>`,
  );
  chart.bars.forEach((b, i) => {
    const y = TOP + i * ROW;
    const mid = n(y + BAR / 2 + 4.5);
    const w = b.value * scale;
    out.push(
      `<text x="${LABEL_WIDTH}" y="${mid}" text-anchor="end">${escapeXml(b.label)}</text>`,
      `<rect x="${PLOT_LEFT}" y="${y}" width="${n(w)}" height="${BAR}" fill="${COLOURS[b.who]}"><title>${escapeXml(`${b.label}: ${formatValue(b.value, chart.unit)}`)}</title></rect>`,
    );
    let end = PLOT_LEFT + w;
    if (b.range) {
      const [lo, hi] = b.range;
      const cy = n(y + BAR / 2);
      out.push(
        `<line x1="${n(PLOT_LEFT + lo * scale)}" y1="${cy}" x2="${n(PLOT_LEFT + hi * scale)}" y2="${cy}" stroke="#222222" stroke-width="1.5"/>`,
        `<line x1="${n(PLOT_LEFT + lo * scale)}" y1="${n(y + 4)}" x2="${n(PLOT_LEFT + lo * scale)}" y2="${n(y + BAR - 4)}" stroke="#222222" stroke-width="1.5"/>`,
        `<line x1="${n(PLOT_LEFT + hi * scale)}" y1="${n(y + 4)}" x2="${n(PLOT_LEFT + hi * scale)}" y2="${n(y + BAR - 4)}" stroke="#222222" stroke-width="1.5"/>`,
      );
      end = Math.max(end, PLOT_LEFT + hi * scale);
    }
    out.push(
      `<text x="${n(end + 6)}" y="${mid}">${escapeXml(formatValue(b.value, chart.unit))}</text>`,
    );
  });
  const legendY = axisY + 48;
  let x = 12;
  for (const who of ['kube-ipvs', 'ipvsadm'] as const) {
    if (!chart.bars.some((b) => b.who === who)) continue;
    out.push(
      `<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${COLOURS[who]}"/>`,
      `<text x="${x + 18}" y="${legendY}">${who}</text>`,
    );
    x += 110;
  }
  if (chart.bars.some((b) => b.range)) {
    out.push(
      `<text x="${x}" y="${legendY}" fill="#555555">bar: median; whisker: fastest to slowest run</text>`,
    );
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

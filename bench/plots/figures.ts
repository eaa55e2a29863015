// Which figures of bench/results/*.json are plotted, and how, for docs/benchmarks.md. A
// figure a result file lacks is an error: a benchmark that changed its output must change
// its plot too, never silently drop it.
import { formatValue, type Bar, type BarChart, type Who } from './svg.js';

/** The parsed result files, by benchmark name (netlink, lvsadm, sync). */
export type Results = Record<string, unknown>;

export interface Figure {
  /** SVG file name under docs/benchmarks/. */
  file: string;
  chart: BarChart;
}

/** The value at a dotted path; a `*` step takes every element of a list (flattened). */
function field(results: Results, bench: string, path: string): unknown {
  const v: unknown = results[bench];
  if (v === undefined) throw new Error(`bench/results/${bench}.json is missing`);
  return at(v, path.split('.'));
}

function at(v: unknown, steps: readonly string[]): unknown {
  const [k, ...rest] = steps;
  if (k === undefined) return v;
  if (k === '*') return Array.isArray(v) ? v.flatMap((x) => at(x, rest)) : undefined;
  return at(
    /^\d+$/.test(k)
      ? (v as unknown[] | undefined)?.[Number(k)]
      : (v as Record<string, unknown> | undefined)?.[k],
    rest,
  );
}

function num(results: Results, bench: string, path: string): number {
  const v = field(results, bench, path);
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new Error(`bench/results/${bench}.json: ${path} is not a number`);
  }
  return v;
}

/** A bar from a median, with the fastest and slowest of its runs when there were several. */
function bar(
  results: Results,
  bench: string,
  label: string,
  who: Who,
  key: string,
  // runScale: runs recorded in another unit than the figure (ms runs of a figure in s).
  { runs = `runs.${key}`, runScale = 1 }: { runs?: string; runScale?: number } = {},
): Bar {
  const value = num(results, bench, key);
  const xs = runsOf(results, bench, runs, runScale);
  return xs.length < 2
    ? { label, value, who }
    : { label, value, who, range: [Math.min(...xs), Math.max(...xs)] };
}

function runsOf(results: Results, bench: string, runs: string, scale: number): number[] {
  const all = field(results, bench, runs);
  if (!Array.isArray(all)) return [];
  return all.map((x, i) => {
    if (typeof x !== 'number') throw new Error(`bench/results/${bench}.json: ${runs}.${i}`);
    return x * scale;
  });
}

/** The largest of the runs at a path (the slowest of every rep). */
function maxBar(results: Results, bench: string, label: string, who: Who, runs: string): Bar {
  const xs = runsOf(results, bench, runs, 1);
  if (xs.length === 0) throw new Error(`bench/results/${bench}.json: ${runs} has no numbers`);
  return { label, value: Math.max(...xs), who };
}

/** 10000 → "10 000", as the rest of the documentation writes counts. */
function count(n: number): string {
  return n.toLocaleString('en-US').replace(/,/g, ' ');
}

function size(results: Results, bench: string): string {
  const services = count(num(results, bench, 'services'));
  return `${services} services × ${num(results, bench, 'destinations_per_service')} real servers`;
}

function reps(results: Results, bench: string): string {
  const r = num(results, bench, 'reps');
  return r === 1 ? 'one run' : `median of ${r} runs`;
}

export function figures(results: Results): Figure[] {
  const r = results;
  return [
    {
      file: 'netlink-write.svg',
      chart: {
        title: `Programming ${size(r, 'netlink')} (${count(num(r, 'netlink', 'operations'))} operations)`,
        subtitle: `bench/netlink.ts, UML pinned to one CPU, ${reps(r, 'netlink')}`,
        unit: 's',
        bars: [
          bar(r, 'netlink', 'ipvsadm -R', 'ipvsadm', 'ipvsadm_restore_s'),
          bar(r, 'netlink', 'bindings, one op per round trip', 'kube-ipvs', 'bindings_single_s'),
          bar(
            r,
            'netlink',
            'bindings, batched, ACK every op',
            'kube-ipvs',
            'bindings_batched_ack_every_s',
          ),
          bar(
            r,
            'netlink',
            'bindings, batched (what kube-ipvs does)',
            'kube-ipvs',
            'bindings_batched_s',
          ),
        ],
      },
    },
    {
      file: 'netlink-read.svg',
      chart: {
        title: `Reading back ${size(r, 'netlink')}`,
        subtitle: `bench/netlink.ts, same runs as above, ${reps(r, 'netlink')}`,
        unit: 's',
        bars: [
          bar(r, 'netlink', 'ipvsadm -Ln', 'ipvsadm', 'ipvsadm_list_s'),
          bar(r, 'netlink', 'bindings dump', 'kube-ipvs', 'bindings_dump_s'),
          bar(r, 'netlink', 'bindings dump with stats', 'kube-ipvs', 'bindings_dump_with_stats_s'),
        ],
      },
    },
    {
      file: 'lvsadm.svg',
      chart: {
        title: `Listing ${size(r, 'lvsadm')}: lvsadm -Ln beside ipvsadm -Ln`,
        subtitle: `bench/lvsadm.ts, whole commands (Node start-up included), ${reps(r, 'lvsadm')}`,
        unit: 's',
        bars: [
          bar(r, 'lvsadm', 'ipvsadm -Ln', 'ipvsadm', 'ipvsadm_list_s'),
          bar(r, 'lvsadm', 'lvsadm -Ln', 'kube-ipvs', 'lvsadm_list_s'),
        ],
      },
    },
    {
      file: 'sync-cold.svg',
      chart: {
        title: `kube-ipvs run with ${size(r, 'sync')}: cold start and resync`,
        subtitle: `bench/sync.ts, kube-ipvs run against the test API server, ${reps(r, 'sync')}`,
        unit: 's',
        bars: [
          bar(r, 'sync', 'ipvsadm -R of the same rules', 'ipvsadm', 'ipvsadm_restore_s'),
          bar(r, 'sync', 'kube-ipvs run: start to synced', 'kube-ipvs', 'cold_sync_s', {
            runs: 'runs.daemon.*.cold_sync_s',
          }),
          bar(r, 'sync', 'of which its first full sync', 'kube-ipvs', 'cold_full_sync_s', {
            runs: 'runs.daemon.*.cold_full_sync_ms',
            runScale: 0.001,
          }),
          // Every resync of every rep (the figure is the median of the reps' medians).
          bar(r, 'sync', 'full resync, no drift', 'kube-ipvs', 'resync_s', {
            runs: 'runs.daemon.*.resync_ms',
            runScale: 0.001,
          }),
        ],
      },
    },
    {
      file: 'sync-update.svg',
      chart: {
        title: `One endpoint change, API server to kernel (${count(num(r, 'sync', 'updates'))} changes)`,
        subtitle: `bench/sync.ts, with ${size(r, 'sync')} programmed; ipvsadm has no counterpart`,
        unit: 'ms',
        bars: [
          bar(r, 'sync', 'p50', 'kube-ipvs', 'update_p50_ms', {
            runs: 'runs.daemon.*.update_p50_ms',
          }),
          bar(r, 'sync', 'p99', 'kube-ipvs', 'update_p99_ms', {
            runs: 'runs.daemon.*.update_p99_ms',
          }),
          maxBar(r, 'sync', 'slowest', 'kube-ipvs', 'runs.daemon.*.update_max_ms'),
        ],
      },
    },
  ];
}

/** The generated part of docs/benchmarks.md: each plot and its figures as a table. */
export function figuresMarkdown(figs: readonly Figure[]): string {
  const out: string[] = [];
  for (const f of figs) {
    out.push(`### ${f.chart.title}`, '', `![${f.chart.title}](benchmarks/${f.file})`, '');
    out.push('| | who | figure | runs (fastest – slowest) |', '| --- | --- | --- | --- |');
    for (const b of f.chart.bars) {
      const range = b.range
        ? `${formatValue(b.range[0], f.chart.unit)} – ${formatValue(b.range[1], f.chart.unit)}`
        : '';
      out.push(`| ${b.label} | ${b.who} | ${formatValue(b.value, f.chart.unit)} | ${range} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

export const BEGIN = '<!-- generated by scripts/gen-bench-plots.mjs: begin -->';
export const END = '<!-- generated by scripts/gen-bench-plots.mjs: end -->';

/** docs/benchmarks.md with the generated part replaced; throws when the markers are missing. */
export function spliceBenchmarks(doc: string, generated: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/benchmarks.md: markers ${BEGIN} … ${END} missing`);
  return `${doc.slice(0, a + BEGIN.length)}\n\n${generated}\n${doc.slice(b)}`;
}

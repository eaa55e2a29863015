// The README's Metrics section, rendered from the metrics registry itself, so the list
// cannot drift from what /metrics serves (a unit test compares them).
import { createMetrics, describeMetrics } from './metrics.js';

export const METRICS_BEGIN =
  '<!-- metrics-reference:begin (generated from lib/serve/metrics.ts) -->';
export const METRICS_END = '<!-- metrics-reference:end -->';

/** The section between the markers, unformatted. */
export function renderMetricsReference(): string {
  const rows = describeMetrics(createMetrics().registry).map(
    (m) =>
      `| \`${m.name}\` | ${m.type} | ${m.labels.map((l) => `\`${l}\``).join(', ') || '—'} | ${m.help.replaceAll('|', '\\|')} |`,
  );
  return [
    METRICS_BEGIN,
    '',
    '`GET /metrics` on `metricsBindAddress` (default `127.0.0.1:10249`) serves these, plus',
    "prom-client's default `process_*` and `nodejs_*` metrics. Histograms add `_bucket`,",
    '`_sum` and `_count` series; counters end in `_total`.',
    '',
    '| Metric | Type | Labels | Help |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** README.md with its metrics section replaced by the one rendered from the registry. */
export function spliceReadmeMetrics(readme: string): string {
  const begin = readme.indexOf(METRICS_BEGIN);
  const end = readme.indexOf(METRICS_END);
  if (begin < 0 || end < begin)
    throw new Error(`README.md: markers ${METRICS_BEGIN} … ${METRICS_END} not found`);
  return readme.slice(0, begin) + renderMetricsReference() + readme.slice(end);
}

// What a sync report puts into the metrics (the programmed state's gauges are read when
// scraped: serve/metrics).
import type { Skipped } from '../model/types.js';
import type { SyncReport } from '../reconcile/reconciler.js';
import type { Metrics } from './metrics.js';

/**
 * A bounded label for something translate left out: the object's kind and the field with
 * its list indices dropped ("Service spec.ports[].protocol"). The reason text names values
 * and would give every bad object its own series.
 */
export function skipReason(s: Skipped): string {
  const kind = s.object.split(' ')[0] ?? s.object;
  const field = s.field.replace(/\[[0-9]+\]/g, '[]');
  return field === '' ? kind : `${kind} ${field}`;
}

/**
 * Records one sync. Trigger times older than `since` (the process start) are not observed:
 * after a restart they measure the downtime, not the programming (as kube-proxy skips them).
 */
export function recordSync(m: Metrics, report: SyncReport, since: number): void {
  m.syncDuration.observe({ kind: report.kind }, report.durationMs / 1000);
  for (const [operation, c] of Object.entries(report.byOp)) {
    if (c.ok > 0) m.operations.inc({ operation, result: 'ok' }, c.ok);
    if (c.failed > 0) m.operations.inc({ operation, result: 'failed' }, c.failed);
  }
  for (const [errno, n] of Object.entries(report.errors)) m.netlinkErrors.inc({ errno }, n);
  for (const s of report.skipped) m.skippedObjects.inc({ reason: skipReason(s) });
  for (const t of report.triggerTimes)
    if (t >= since && report.finishedAt >= t)
      m.networkProgramming.observe((report.finishedAt - t) / 1000);
}

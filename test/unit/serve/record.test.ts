// serve/record: what one sync report does to the metrics.
import { expect } from 'chai';
import type { SyncReport } from '../../../lib/reconcile/reconciler.js';
import { createMetrics, type Metrics } from '../../../lib/serve/metrics.js';
import { recordSync, skipReason } from '../../../lib/serve/record.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');

function report(over: Partial<SyncReport>): SyncReport {
  return {
    kind: 'partial',
    services: 1,
    ops: 0,
    failed: 0,
    byOp: {},
    durationMs: 12,
    finishedAt: T0,
    needFull: false,
    errors: {},
    skipped: [],
    triggerTimes: [],
    ...over,
  };
}

async function value(m: Metrics, name: string, labels: Record<string, string> = {}) {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = metric?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value;
}

describe('serve/record', () => {
  it("counts operations by operation and result, moving by each report's delta", async () => {
    const m = createMetrics();
    const r = report({
      byOp: { addDestination: { ok: 2, failed: 1 }, addService: { ok: 1, failed: 0 } },
      errors: { EINVAL: 1 },
    });
    recordSync(m, r, 0);
    recordSync(m, r, 0);
    const op = 'kube_ipvs_sync_operations_total';
    expect(await value(m, op, { operation: 'addDestination', result: 'ok' })).to.equal(4);
    expect(await value(m, op, { operation: 'addDestination', result: 'failed' })).to.equal(2);
    expect(await value(m, op, { operation: 'addService', result: 'ok' })).to.equal(2);
    expect(await value(m, op, { operation: 'addService', result: 'failed' })).to.equal(undefined);
    expect(await value(m, 'kube_ipvs_netlink_errors_total', { errno: 'EINVAL' })).to.equal(2);
  });

  it('observes the duration under the sync kind', async () => {
    const m = createMetrics();
    recordSync(m, report({ kind: 'full', durationMs: 1500 }), 0);
    const text = await m.registry.getSingleMetricAsString('kube_ipvs_sync_duration_seconds');
    expect(text).to.contain('kube_ipvs_sync_duration_seconds_sum{kind="full"} 1.5');
    expect(text).to.contain('kube_ipvs_sync_duration_seconds_count{kind="full"} 1');
  });

  it('observes finishedAt minus each trigger time, but not triggers from before the start', async () => {
    const m = createMetrics();
    const since = T0 - 10_000;
    recordSync(m, report({ triggerTimes: [T0 - 300, T0 - 2000, T0 - 60_000] }), since);
    const text = await m.registry.getSingleMetricAsString(
      'kube_ipvs_network_programming_duration_seconds',
    );
    expect(text).to.contain('kube_ipvs_network_programming_duration_seconds_count 2');
    expect(text).to.contain('kube_ipvs_network_programming_duration_seconds_sum 2.3');
    expect(text).to.contain('kube_ipvs_network_programming_duration_seconds_bucket{le="0.5"} 1');
    expect(text).to.contain('kube_ipvs_network_programming_duration_seconds_bucket{le="2"} 2');
  });

  it('labels skipped parts by object kind and field without indices (bounded cardinality)', async () => {
    expect(
      skipReason({ object: 'Service a/b', field: 'spec.ports[3].protocol', reason: '"ICMP"…' }),
    ).to.equal('Service spec.ports[].protocol');
    expect(skipReason({ object: 'EndpointSlice a/b-1', field: '', reason: 'x' })).to.equal(
      'EndpointSlice',
    );
    const m = createMetrics();
    recordSync(
      m,
      report({
        skipped: [
          { object: 'Service a/b', field: 'spec.ports[0].protocol', reason: 'x' },
          { object: 'Service c/d', field: 'spec.ports[1].protocol', reason: 'y' },
        ],
      }),
      0,
    );
    expect(
      await value(m, 'kube_ipvs_skipped_objects_total', {
        reason: 'Service spec.ports[].protocol',
      }),
    ).to.equal(2);
  });
});

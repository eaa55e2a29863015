// serve/metrics: the names, types and label sets of every metric are pinned here. Dashboards
// and alerts query them: a change must be deliberate, so it must change this test too.
import { expect } from 'chai';
import {
  createMetrics,
  describeMetrics,
  NETWORK_PROGRAMMING_BUCKETS,
  SYNC_DURATION_BUCKETS,
} from '../../../lib/serve/metrics.js';

const PINNED: readonly [name: string, type: string, labels: readonly string[]][] = [
  ['kube_ipvs_backend', 'gauge', ['mode']],
  ['kube_ipvs_bind_failures_total', 'counter', ['server']],
  ['kube_ipvs_config_reloads_total', 'counter', ['result']],
  ['kube_ipvs_draining_real_servers', 'gauge', []],
  ['kube_ipvs_health_check_node_ports', 'gauge', []],
  ['kube_ipvs_last_successful_sync_timestamp_seconds', 'gauge', []],
  ['kube_ipvs_netlink_errors_total', 'counter', ['errno']],
  ['kube_ipvs_network_programming_duration_seconds', 'histogram', []],
  ['kube_ipvs_real_servers', 'gauge', []],
  ['kube_ipvs_skipped_objects_total', 'counter', ['reason']],
  ['kube_ipvs_sync_duration_seconds', 'histogram', ['kind']],
  ['kube_ipvs_sync_operations_total', 'counter', ['operation', 'result']],
  ['kube_ipvs_virtual_servers', 'gauge', []],
];

describe('serve/metrics', () => {
  it('every metric keeps its name, type and label set (dashboards depend on them)', () => {
    const got = describeMetrics(createMetrics().registry).map(
      (m) => [m.name, m.type, m.labels] as const,
    );
    expect(got).to.deep.equal(PINNED);
  });

  it('every metric has help text and the kube_ipvs_ prefix', () => {
    for (const m of describeMetrics(createMetrics().registry)) {
      expect(m.name).to.match(/^kube_ipvs_[a-z_]+$/);
      expect(m.help.length, m.name).to.be.above(20);
    }
  });

  it("uses kube-proxy's buckets: network programming 0.25 s … 300 s, sync 1 ms × 2^0..14", () => {
    expect(NETWORK_PROGRAMMING_BUCKETS.slice(0, 4)).to.deep.equal([0.25, 0.5, 1, 2]);
    expect(NETWORK_PROGRAMMING_BUCKETS).to.include.members([59, 60, 115, 120, 300]);
    expect(NETWORK_PROGRAMMING_BUCKETS.at(-1)).to.equal(300);
    expect(NETWORK_PROGRAMMING_BUCKETS).to.have.length(2 + 59 + 12 + 7);
    expect(SYNC_DURATION_BUCKETS).to.have.length(15);
    expect(SYNC_DURATION_BUCKETS[0]).to.equal(0.001);
    expect(SYNC_DURATION_BUCKETS[14]).to.be.closeTo(16.384, 1e-9);
  });

  it('two instances do not share a registry (each run owns its own)', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.virtualServers.set(3);
    expect(await b.registry.getSingleMetricAsString('kube_ipvs_virtual_servers')).to.match(
      /kube_ipvs_virtual_servers 0$/m,
    );
  });

  it('reads the programmed gauges from the counts when scraped, not when a sync is recorded', async () => {
    let counts = { virtualServers: 3, realServers: 7, draining: 1 };
    const m = createMetrics(() => counts);
    const scrape = async () => {
      const text = await m.registry.metrics();
      const v = (name: string) => new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1];
      return [
        v('kube_ipvs_virtual_servers'),
        v('kube_ipvs_real_servers'),
        v('kube_ipvs_draining_real_servers'),
      ];
    };
    expect(await scrape()).to.deep.equal(['3', '7', '1']);
    counts = { virtualServers: 4, realServers: 9, draining: 0 };
    expect(await scrape()).to.deep.equal(['4', '9', '0']);
  });
});

// serve/serving in-process: the status servers on loopback port 0, driven by sync reports,
// a fake clock and fake source state; every answer is read over HTTP.
import { expect } from 'chai';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { HealthCheck } from '../../../lib/model/types.js';
import type { SyncReport } from '../../../lib/reconcile/reconciler.js';
import { Serving } from '../../../lib/serve/serving.js';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };

function report(finishedAt: number, over: Partial<SyncReport> = {}): SyncReport {
  return {
    kind: 'full',
    services: 1,
    ops: 1,
    failed: 0,
    byOp: { addService: { ok: 1, failed: 0 } },
    durationMs: 5,
    finishedAt,
    needFull: false,
    errors: {},
    skipped: [],
    triggerTimes: [],
    ...over,
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, text: await r.text() };
}

async function until<T>(f: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('serve/serving', () => {
  let now = Date.parse('2026-12-01T10:00:00.000Z');
  let down: number | undefined;
  const checks = new Map<string, HealthCheck>();
  let serving: Serving;
  let ports: { metrics: number; healthz: number };
  const config = {
    metricsBindAddress: '127.0.0.1:0',
    healthzBindAddress: '127.0.0.1:0',
    syncPeriod: 1000,
  };

  before(async () => {
    serving = new Serving({
      config: () => config,
      mode: () => 'ipvs',
      programmed: () => ({ virtualServers: 2, realServers: 5, draining: 0 }),
      healthChecks: () => checks,
      healthCheckAddresses: () => undefined,
      sourceDownSince: () => down,
      log: quiet,
      now: () => now,
    });
    serving.start();
    ports = await until(() => {
      const p = serving.boundPorts();
      return p.metrics !== undefined && p.healthz !== undefined
        ? { metrics: p.metrics, healthz: p.healthz }
        : undefined;
    }, 'both status servers');
  });

  after(() => serving.close());

  it('R17.3: /proxyMode prints the backend mode, bare', async () => {
    expect(await get(ports.metrics, '/proxyMode')).to.deep.equal({ status: 200, text: 'ipvs' });
  });

  it('/metrics has our metrics, the backend gauge and the process metrics', async () => {
    serving.onSync(report(now));
    const { status, text } = await get(ports.metrics, '/metrics');
    expect(status).to.equal(200);
    expect(text).to.contain('kube_ipvs_backend{mode="ipvs"} 1');
    expect(text).to.contain('kube_ipvs_virtual_servers 2');
    expect(text).to.contain('kube_ipvs_real_servers 5');
    expect(text).to.contain(
      'kube_ipvs_sync_operations_total{operation="addService",result="ok"} 1',
    );
    expect(text).to.match(/^process_cpu_user_seconds_total /m);
    expect(text).to.match(/^nodejs_heap_size_total_bytes /m);
    expect((await get(ports.metrics, '/nope')).status).to.equal(404);
  });

  it('/healthz follows the source: 503 once it has been down past 2 × syncPeriod, 200 after it returns', async () => {
    serving.onSync(report(now));
    expect((await get(ports.healthz, '/healthz')).status).to.equal(200);
    down = now;
    for (let i = 1; i <= 3; i++) {
      now += 1000;
      serving.onSync(report(now));
    }
    const h = await get(ports.healthz, '/healthz');
    expect(h.status).to.equal(503);
    expect(JSON.parse(h.text).lastUpdated).to.equal(new Date(now - 3000).toISOString());
    // Syncs went on: /livez stays 200.
    expect((await get(ports.healthz, '/livez')).status).to.equal(200);
    down = undefined;
    now += 1000;
    serving.onSync(report(now));
    expect((await get(ports.healthz, '/healthz')).status).to.equal(200);
  });

  it('R10.6: a health-check node port opens with its Service, answers by local endpoints, closes when it goes', async () => {
    const port = await freePort();
    checks.set('default/lb', { nodePort: port, localEndpoints: 1 });
    serving.onSync(report(now));
    const up = await until(
      () => get(port, '/healthz').catch(() => undefined),
      'the health-check port',
    );
    expect(up.status).to.equal(200);
    expect(JSON.parse(up.text)).to.deep.include({
      service: { namespace: 'default', name: 'lb' },
      localEndpoints: 1,
    });
    checks.set('default/lb', { nodePort: port, localEndpoints: 0 });
    serving.onSync(report(now));
    expect((await get(port, '/')).status).to.equal(503);
    // The node is being drained: 503 even with endpoints.
    checks.set('default/lb', { nodePort: port, localEndpoints: 2 });
    serving.onSync(report(now));
    expect((await get(port, '/')).status).to.equal(200);
    serving.onNode({
      metadata: { name: 'n' },
      spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] },
    });
    expect((await get(port, '/')).status).to.equal(503);
    expect((await get(ports.healthz, '/healthz')).status).to.equal(503);
    serving.onNode({ metadata: { name: 'n' } });
    expect((await get(port, '/')).status).to.equal(200);
    checks.delete('default/lb');
    serving.onSync(report(now));
    expect(serving.healthCheckPorts).to.deep.equal([]);
    await until(
      () =>
        get(port, '/').then(
          () => undefined,
          () => true,
        ),
      'the port to close',
    );
  });

  it('a config reload that moves /metrics reopens it there, leaves /healthz alone, and is counted', async () => {
    const port = await freePort();
    const old = ports.metrics;
    config.metricsBindAddress = `127.0.0.1:${port}`;
    serving.onConfigReload(true);
    serving.onConfigReload(false);
    await until(() => (serving.boundPorts().metrics === port ? true : undefined), 'the new port');
    expect((await get(port, '/proxyMode')).text).to.equal('ipvs');
    expect(serving.boundPorts().healthz).to.equal(ports.healthz);
    await get(old, '/proxyMode').then(
      () => expect.fail('the old metrics port still answers'),
      () => undefined,
    );
    const text = (await get(port, '/metrics')).text;
    expect(text).to.contain('kube_ipvs_config_reloads_total{result="success"} 1');
    expect(text).to.contain('kube_ipvs_config_reloads_total{result="failure"} 1');
  });
});

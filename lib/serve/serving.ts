// The serving layer of `kube-ipvs run`: the metrics, the status servers (/metrics and
// /proxyMode; /healthz and /livez) and the health-check node ports, fed by the sync loop's
// reports, config reloads and the Node object. Nothing here can stop a sync: a server that
// cannot listen retries on its own.
import type { RequestListener } from 'node:http';
import type { V1Node } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { BackendMode } from '../backends/backend.js';
import type { HealthCheck } from '../model/types.js';
import type { SyncReport } from '../reconcile/reconciler.js';
import { HealthCheckPorts } from './health-check-ports.js';
import {
  HealthState,
  healthzResponse,
  livezResponse,
  sourceLive,
  type HealthResponse,
} from './health.js';
import { parseBindAddress, RetryingListener, type ListenerLog } from './listener.js';
import { createMetrics, type Metrics } from './metrics.js';
import { nodeEligible } from './node-eligibility.js';
import { recordSync, type ProgrammedCounts } from './record.js';
import { healthRoutes, metricsRoutes } from './routes.js';

export interface ServingConfig {
  metricsBindAddress: string;
  healthzBindAddress: string;
  /** ms */
  syncPeriod: number;
}

export interface ServingOptions {
  config: () => ServingConfig;
  mode: () => BackendMode;
  programmed: () => ProgrammedCounts;
  healthChecks: () => ReadonlyMap<string, HealthCheck>;
  /** Since when the Kubernetes source has not been streaming; always undefined for manifests. */
  sourceDownSince: () => number | undefined;
  log: ListenerLog;
  now?: () => number;
}

export class Serving {
  readonly metrics: Metrics = createMetrics();
  readonly health = new HealthState();
  private readonly now: () => number;
  private readonly started: number;
  private readonly hcPorts: HealthCheckPorts;
  private listeners: RetryingListener[] = [];
  private addresses = '';

  constructor(private readonly opts: ServingOptions) {
    this.now = opts.now ?? Date.now;
    this.started = this.now();
    this.metrics.backend.set({ mode: opts.mode() }, 1);
    this.hcPorts = new HealthCheckPorts({
      log: opts.log,
      // Not the /healthz verdict: an API server outage must not take every node out of
      // every Local load balancer while the kernel rules keep working.
      proxyHealthy: () => this.livez().status === 200 && this.health.current.nodeEligible,
      onBindFailure: () => this.metrics.bindFailures.inc({ server: 'health-check-node-port' }),
    });
  }

  private timeoutMs(): number {
    return 2 * this.opts.config().syncPeriod;
  }

  healthz(): HealthResponse {
    return healthzResponse(this.health.current, this.now(), this.timeoutMs());
  }

  livez(): HealthResponse {
    return livezResponse(this.health.current, this.now(), this.timeoutMs());
  }

  /** Opens the two status servers (again, when the config moved them). */
  start(): void {
    const c = this.opts.config();
    const key = `${c.metricsBindAddress} ${c.healthzBindAddress}`;
    if (key === this.addresses) return;
    this.addresses = key;
    const old = this.listeners;
    this.listeners = [];
    for (const l of old) void l.close();
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
    const all = Registry.merge([this.metrics.registry, defaults]);
    const open = (name: 'metrics' | 'healthz', text: string, handler: RequestListener) => {
      const address = parseBindAddress(text);
      if (!address) {
        this.opts.log.warn({ server: name, address: text }, 'not an IP:port; not listening');
        this.metrics.bindFailures.inc({ server: name });
        return;
      }
      const l = new RetryingListener({
        name,
        address,
        handler,
        log: this.opts.log,
        onBindFailure: () => this.metrics.bindFailures.inc({ server: name }),
      });
      this.listeners.push(l);
      l.start();
    };
    open(
      'metrics',
      c.metricsBindAddress,
      metricsRoutes(all, () => this.opts.mode()),
    );
    open(
      'healthz',
      c.healthzBindAddress,
      healthRoutes(
        () => this.healthz(),
        () => this.livez(),
      ),
    );
  }

  /** The ports the status servers listen on (for tests that bind port 0). */
  boundPorts(): { metrics?: number; healthz?: number } {
    const out: { metrics?: number; healthz?: number } = {};
    for (const l of this.listeners) {
      const p = l.boundPort;
      if (p !== undefined) out[l.name as 'metrics' | 'healthz'] = p;
    }
    return out;
  }

  /** The health-check node ports with a listener (bound or retrying). */
  get healthCheckPorts(): number[] {
    return this.hcPorts.openPorts;
  }

  /** After every completed sync step. */
  onSync(report: SyncReport): void {
    const live = sourceLive(
      this.opts.sourceDownSince(),
      report.finishedAt,
      this.opts.config().syncPeriod / 2,
    );
    if (this.health.recordSync(report.finishedAt, report.needFull, live))
      this.metrics.lastSuccessfulSync.set(report.finishedAt / 1000);
    recordSync(this.metrics, report, this.opts.programmed(), this.started);
    this.hcPorts.update(this.opts.healthChecks());
    this.metrics.healthCheckNodePorts.set(this.hcPorts.openPorts.length);
  }

  onConfigReload(ok: boolean): void {
    this.metrics.configReloads.inc({ result: ok ? 'success' : 'failure' });
    if (ok) this.start();
  }

  onNode(node: V1Node | undefined): void {
    this.health.setNodeEligible(nodeEligible(node));
  }

  async close(): Promise<void> {
    const all = this.listeners;
    this.listeners = [];
    await Promise.all([...all.map((l) => l.close()), this.hcPorts.close()]);
  }
}

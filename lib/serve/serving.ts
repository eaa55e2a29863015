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
import { createMetrics, type Metrics, type ProgrammedCounts } from './metrics.js';
import { nodeEligible } from './node-eligibility.js';
import { recordSync } from './record.js';
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
  /**
   * The addresses health-check node ports listen on: the node addresses nodePortAddresses
   * selects, or undefined (nodePortAddresses empty) for every address, as kube-proxy.
   */
  healthCheckAddresses: () => readonly string[] | undefined;
  /** Since when the Kubernetes source has not been streaming; always undefined for manifests. */
  sourceDownSince: () => number | undefined;
  log: ListenerLog;
  now?: () => number;
}

type StatusServer = 'metrics' | 'healthz';

export class Serving {
  readonly metrics: Metrics = createMetrics(() => this.opts.programmed());
  readonly health = new HealthState();
  private readonly now: () => number;
  private readonly started: number;
  private readonly hcPorts: HealthCheckPorts;
  private readonly listeners = new Map<
    StatusServer,
    { text: string; listener: RetryingListener }
  >();
  /** Our registry and the process metrics, as /metrics serves them. */
  private all: Registry | undefined;

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

  /** Opens the two status servers, and reopens one whose address a config reload changed. */
  start(): void {
    const c = this.opts.config();
    this.all ??= (() => {
      const defaults = new Registry();
      collectDefaultMetrics({ register: defaults });
      return Registry.merge([this.metrics.registry, defaults]);
    })();
    const all = this.all;
    this.open('metrics', c.metricsBindAddress, () => metricsRoutes(all, () => this.opts.mode()));
    this.open('healthz', c.healthzBindAddress, () =>
      healthRoutes(
        () => this.healthz(),
        () => this.livez(),
      ),
    );
  }

  private open(name: StatusServer, text: string, handler: () => RequestListener): void {
    const current = this.listeners.get(name);
    if (current?.text === text) return;
    this.listeners.delete(name);
    const address = parseBindAddress(text);
    if (!address) {
      // The config schema refuses such a value; kept so that a bad one is never fatal.
      this.opts.log.warn({ server: name, address: text }, 'not an IP:port; not listening');
      this.metrics.bindFailures.inc({ server: name });
      void current?.listener.close();
      return;
    }
    const l = new RetryingListener({
      name,
      address,
      handler: handler(),
      log: this.opts.log,
      onBindFailure: () => this.metrics.bindFailures.inc({ server: name }),
    });
    this.listeners.set(name, { text, listener: l });
    // The old one first lets go of its port, which the new address may share.
    void (current?.listener.close() ?? Promise.resolve()).then(() => l.start());
  }

  /** The ports the status servers listen on (for tests that bind port 0). */
  boundPorts(): { metrics?: number; healthz?: number } {
    const out: { metrics?: number; healthz?: number } = {};
    for (const [name, { listener }] of this.listeners) {
      const p = listener.boundPort;
      if (p !== undefined) out[name] = p;
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
    recordSync(this.metrics, report, this.started);
    this.hcPorts.update(this.opts.healthChecks(), this.opts.healthCheckAddresses());
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
    const all = [...this.listeners.values()].map((l) => l.listener);
    this.listeners.clear();
    await Promise.all([...all.map((l) => l.close()), this.hcPorts.close()]);
  }
}

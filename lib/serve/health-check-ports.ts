// The listeners of the health-check node ports: opened and closed after each sync to
// match the Services that have one, each answering from the latest entry (a count change
// reopens nothing).
import type { HealthCheck } from '../model/types.js';
import {
  diffListeners,
  healthCheckResponse,
  healthCheckSet,
  listenersFor,
  type HealthCheckEntry,
} from './health-check-set.js';
import { RetryingListener, type ListenerLog } from './listener.js';

export interface HealthCheckPortsOptions {
  log: ListenerLog;
  /** Whether the proxy itself is healthy (sync loop alive, node not being drained). */
  proxyHealthy: () => boolean;
  onBindFailure: () => void;
}

export class HealthCheckPorts {
  private readonly entries = new Map<number, HealthCheckEntry>();
  /** By "port host" (listenersFor). */
  private readonly listeners = new Map<string, RetryingListener>();
  private reportedConflicts = '';

  constructor(private readonly opts: HealthCheckPortsOptions) {}

  /** The ports with a listener (bound or retrying), sorted. */
  get openPorts(): number[] {
    const ports = new Set([...this.listeners.keys()].map((k) => Number(k.split(' ')[0])));
    return [...ports].sort((a, b) => a - b);
  }

  /**
   * Brings the listeners in line with the Services' health checks (by service key), on
   * `hosts` (undefined: every address).
   */
  update(checks: ReadonlyMap<string, HealthCheck>, hosts: readonly string[] | undefined): void {
    const set = healthCheckSet(checks);
    const text = set.conflicts.map((c) => `${c.service}:${c.port}`).join(',');
    if (text !== this.reportedConflicts)
      for (const c of set.conflicts)
        this.opts.log.warn(
          { service: c.service, port: c.port, holder: c.holder },
          `health-check node port ${c.port} of Service ${c.service} is already served for Service ${c.holder}`,
        );
    this.reportedConflicts = text;
    const want = listenersFor(set.ports.keys(), hosts);
    const d = diffListeners(this.listeners.keys(), want);
    this.entries.clear();
    for (const [p, e] of set.ports) this.entries.set(p, e);
    for (const key of d.close) {
      const l = this.listeners.get(key);
      this.listeners.delete(key);
      void l?.close();
    }
    for (const key of d.open) {
      const { port, host } = want.get(key) as { port: number; host: string | undefined };
      const l = new RetryingListener({
        name: 'health-check-node-port',
        address: { host, port },
        log: this.opts.log,
        onBindFailure: this.opts.onBindFailure,
        handler: (_req, res) => {
          const e = this.entries.get(port);
          if (!e) {
            res.writeHead(404).end();
            return;
          }
          const r = healthCheckResponse(e, this.opts.proxyHealthy());
          res.writeHead(r.status, r.headers).end(r.body);
        },
      });
      this.listeners.set(key, l);
      l.start();
    }
  }

  async close(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((l) => l.close()));
  }
}

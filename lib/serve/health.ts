// /healthz and /livez, as kube-proxy answers them (pkg/proxy/healthcheck/proxy_health.go):
// JSON {"lastUpdated", "currentTime"} (and "nodeEligible" on /healthz), 200 while the last
// successful sync is at most the timeout (2 × syncPeriod) old, else 503. Pure: the caller
// passes the time.
//
// What counts as a successful sync here, unlike kube-proxy: one that completed without
// leaving the kernel state unknown, while the Kubernetes source was live. kube-proxy keeps
// syncing from its cache when the API server is gone and stays healthy; kube-ipvs reports a
// node whose view of the cluster has stopped moving, so a load balancer or an operator sees
// that its rules may be stale. /livez does not ask for the source: restarting every node's
// proxy because the API server is away would not bring it back.

/** How Go's encoding/json writes a zero time.Time: kube-proxy's lastUpdated before any sync. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export interface HealthSnapshot {
  /** The last successful sync (ms since the epoch); undefined before the first. */
  lastUpdated: number | undefined;
  /** The last sync that completed at all, source or not; undefined before the first. */
  lastSynced: number | undefined;
  /** False while the Node is being deleted or drained by the cluster autoscaler. */
  nodeEligible: boolean;
}

export interface HealthResponse {
  status: 200 | 503;
  body: string;
}

const iso = (ms: number | undefined): string =>
  ms === undefined ? GO_ZERO_TIME : new Date(ms).toISOString();

/** True while `at` is at most `timeoutMs` before `now`. Before any sync: false. */
export function fresh(at: number | undefined, now: number, timeoutMs: number): boolean {
  return at !== undefined && now - at <= timeoutMs;
}

export function healthzResponse(s: HealthSnapshot, now: number, timeoutMs: number): HealthResponse {
  const ok = fresh(s.lastUpdated, now, timeoutMs) && s.nodeEligible;
  return {
    status: ok ? 200 : 503,
    body: JSON.stringify({
      lastUpdated: iso(s.lastUpdated),
      currentTime: iso(now),
      nodeEligible: s.nodeEligible,
    }),
  };
}

/**
 * 200 while syncs keep completing, and before the first one (as kube-proxy: "healthy while
 * it's starting up"), so a node that waits for an unreachable API server at start is not
 * restarted over and over by its liveness probe.
 */
export function livezResponse(s: HealthSnapshot, now: number, timeoutMs: number): HealthResponse {
  return {
    status: s.lastSynced === undefined || fresh(s.lastSynced, now, timeoutMs) ? 200 : 503,
    body: JSON.stringify({ lastUpdated: iso(s.lastSynced), currentTime: iso(now) }),
  };
}

/**
 * Whether the source was live at `now`: every watch streams, or the oldest one that does not
 * stopped less than `graceMs` ago. A watch is re-opened every few minutes (its timeout) and
 * after a dropped connection; such a gap is no outage, so a sync ending in it still counts.
 * A connection that goes silent without closing is noticed when the watch's client-side
 * deadline aborts it (timeoutSeconds + slack): last-event age cannot be used instead, since
 * a quiet cluster sends a watch nothing but a bookmark about once a minute.
 */
export function sourceLive(downSince: number | undefined, now: number, graceMs: number): boolean {
  return downSince === undefined || now - downSince < graceMs;
}

/** The mutable part: what the sync loop and the source have told so far. */
export class HealthState {
  private snapshot: HealthSnapshot = {
    lastUpdated: undefined,
    lastSynced: undefined,
    nodeEligible: true,
  };

  get current(): Readonly<HealthSnapshot> {
    return this.snapshot;
  }

  /**
   * A sync ended at `at`. It is successful when it left the kernel state known (no full
   * resync needed) and the source was live; returns whether it was.
   */
  recordSync(at: number, needFull: boolean, live: boolean): boolean {
    const ok = !needFull && live;
    this.snapshot = {
      ...this.snapshot,
      lastSynced: at,
      ...(ok ? { lastUpdated: at } : {}),
    };
    return ok;
  }

  setNodeEligible(eligible: boolean): void {
    this.snapshot = { ...this.snapshot, nodeEligible: eligible };
  }
}

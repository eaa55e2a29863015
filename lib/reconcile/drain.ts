// Graceful termination of TCP and SCTP real servers: a removed one stays at weight 0 so
// its open connections finish, and goes when they have, or when the timeout has passed
// (an idle connection entry expires after the kernel's TCP timeout anyway). Pure: the
// time a drain started is kept by the caller (DrainTracker).
import type { IpvsDestination } from '../../bindings/ipvs/types.js';

export interface DrainClock {
  /** Milliseconds, same clock as since(). */
  readonly now: number;
  readonly timeoutMs: number;
  /** When the real server started draining; undefined if it has not yet. */
  since(realServerKey: string): number | undefined;
}

export type DrainVerdict = 'keep' | 'delete';

export function drainVerdict(
  d: Pick<IpvsDestination, 'activeConns' | 'inactiveConns'>,
  since: number | undefined,
  clock: DrainClock,
): DrainVerdict {
  const conns = (d.activeConns ?? 0) + (d.inactiveConns ?? 0);
  if (conns === 0) return 'delete';
  if (since !== undefined && clock.now - since >= clock.timeoutMs) return 'delete';
  return 'keep';
}

/** When each draining real server started draining. */
export class DrainTracker {
  private readonly started = new Map<string, number>();

  clock(now: number, timeoutMs: number): DrainClock {
    return { now, timeoutMs, since: (k) => this.started.get(k) };
  }

  /**
   * Records the outcome of one virtual server's diff: `draining` are its real servers
   * still draining; the others it had have finished.
   */
  update(virtualServer: string, draining: readonly string[], now: number): void {
    const prefix = `${virtualServer}>`;
    const still = new Set(draining);
    for (const k of [...this.started.keys()])
      if (k.startsWith(prefix) && !still.has(k)) this.started.delete(k);
    for (const k of draining) if (!this.started.has(k)) this.started.set(k, now);
  }

  /** Virtual server keys (the part before '>') with a draining real server. */
  virtualServers(): Set<string> {
    const out = new Set<string>();
    for (const k of this.started.keys()) out.add(k.slice(0, k.indexOf('>')));
    return out;
  }

  get size(): number {
    return this.started.size;
  }
}

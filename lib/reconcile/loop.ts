// When to sync: dirty Services are coalesced and synced at most once per minSyncPeriod
// ("0s": on every change), a full resync runs every syncPeriod and after any failure
// that leaves the kernel state unknown, failed Services are retried with backoff, and
// draining real servers are followed until they can go. One sync runs at a time.
import type { ModelStore } from '../sources/model-store.js';
import type { Reconciler, ReconcilerLog, SyncKind, SyncReport } from './reconciler.js';

export interface LoopTiming {
  minSyncPeriodMs: number;
  syncPeriodMs: number;
}

export interface SyncLoopOptions {
  reconciler: Pick<Reconciler, 'full' | 'partial' | 'drain' | 'nextRetry'> & {
    readonly drains: { readonly size: number };
  };
  store: Pick<ModelStore, 'onDirty' | 'dirtyCount'>;
  timing: () => LoopTiming;
  log: ReconcilerLog & { error(obj: object, msg: string): void };
  /** How often draining real servers are re-read; default 1 s. */
  drainPollMs?: number;
  onReport?: (report: SyncReport) => void;
  now?: () => number;
}

const FAILURE_BACKOFF_MS = 1000;

export class SyncLoop {
  /** Cancels the scheduled fire(), if one is scheduled. */
  private cancel: (() => void) | undefined;
  private running = false;
  private stopped = false;
  private needFull = true;
  private lastStart = Number.NEGATIVE_INFINITY;
  private lastFull = Number.NEGATIVE_INFINITY;
  private lastDrain = Number.NEGATIVE_INFINITY;
  private failures = 0;
  private unsubscribe: (() => void) | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: SyncLoopOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Starts with a full sync; later syncs follow changes and timers. */
  start(): void {
    this.unsubscribe = this.opts.store.onDirty(() => this.kick());
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Asks for a full resync at the next allowed moment (config reload, lost replies). */
  requestFull(): void {
    this.needFull = true;
    this.kick();
  }

  /** The sync due first and when; a full resync is always due at some point. */
  private next(): { kind: SyncKind; at: number } {
    const t = this.opts.timing();
    const earliest = this.lastStart + t.minSyncPeriodMs;
    const retryBackoff =
      this.failures > 0
        ? this.lastStart + Math.min(FAILURE_BACKOFF_MS * 2 ** (this.failures - 1), t.syncPeriodMs)
        : Number.NEGATIVE_INFINITY;
    const fullAt = this.needFull
      ? Math.max(earliest, retryBackoff)
      : Math.max(earliest, this.lastFull + t.syncPeriodMs);
    let best: { kind: SyncKind; at: number } = { kind: 'full', at: fullAt };
    const consider = (kind: SyncKind, at: number): void => {
      if (at < best.at) best = { kind, at };
    };
    if (this.opts.store.dirtyCount > 0) consider('partial', earliest);
    const retry = this.opts.reconciler.nextRetry();
    if (retry !== undefined) consider('partial', Math.max(earliest, retry));
    if (this.opts.reconciler.drains.size > 0)
      consider('drain', this.lastDrain + (this.opts.drainPollMs ?? 1000));
    return best;
  }

  private kick(): void {
    if (this.stopped || this.running) return;
    this.cancel?.();
    const wait = this.next().at - this.now();
    if (wait <= 0) {
      // Due now (minSyncPeriod 0s): after the events of this turn of the event loop, so a
      // burst read together is one sync, and without a timer, whose shortest wait is 1 ms
      // and took 1.4 ms per change in bench/sync.
      const immediate = setImmediate(() => void this.fire());
      this.cancel = () => clearImmediate(immediate);
    } else {
      // Node's timers take at most 2^31-1 ms.
      const timer = setTimeout(() => void this.fire(), Math.min(wait, 0x7fffffff));
      this.cancel = () => clearTimeout(timer);
    }
  }

  private async fire(): Promise<void> {
    this.cancel = undefined;
    const n = this.next();
    if (this.stopped) return;
    if (n.at > this.now()) return this.kick();
    this.running = true;
    this.lastStart = this.now();
    try {
      const r = this.opts.reconciler;
      const report =
        n.kind === 'full'
          ? await r.full()
          : n.kind === 'drain'
            ? await r.drain()
            : await r.partial();
      if (n.kind === 'full') {
        this.lastFull = this.now();
        this.needFull = false;
      }
      if (n.kind === 'drain') this.lastDrain = this.now();
      if (report.needFull) this.needFull = true;
      this.failures = 0;
      this.opts.onReport?.(report);
    } catch (e) {
      // The kernel state is unknown (a dump failed, the socket broke): resync, backing off.
      this.failures++;
      this.needFull = true;
      this.opts.log.error(
        { kind: n.kind, error: e instanceof Error ? e.message : String(e) },
        'sync failed',
      );
    } finally {
      this.running = false;
    }
    this.kick();
  }
}

// One sync step at a time: full (dump the kernel, repair drift), partial (only the dirty
// Services, against the remembered kernel state), drain (follow draining real servers).
// The loop decides when each runs; this decides what it does.
import type { IpvsServiceId } from '../../bindings/ipvs/codec.js';
import { IPPROTO_UDP } from '../../bindings/ipvs/constants.js';
import { NetlinkError } from '../../bindings/netlink/errors.js';
import type { Backend, OpResult } from '../backends/backend.js';
import { toIpvsEntry, type IpvsEntry } from '../backends/ipvs/convert.js';
import { ipvsServiceKey } from '../backends/ipvs/key.js';
import type { ModelStore } from '../sources/model-store.js';
import type { HealthCheck, Skipped, VirtualServerKey } from '../model/types.js';
import { DesiredTable } from './desired-table.js';
import {
  destinationId,
  diffAddresses,
  diffEntry,
  holdsExactly,
  orderOps,
  type Op,
} from './diff.js';
import { DrainTracker } from './drain.js';
import { recordOp } from './observed.js';

export type SyncKind = 'full' | 'partial' | 'drain';

export interface SyncReport {
  kind: SyncKind;
  /** Services translated. */
  services: number;
  ops: number;
  failed: number;
  /** Counts by op name ("addDestination") and result. */
  byOp: Record<string, { ok: number; failed: number }>;
  durationMs: number;
  /** When the kernel write returned (ms since the epoch, the reconciler's clock). */
  finishedAt: number;
  /** A failure that needs a full resync (lost replies, an unexplained error). */
  needFull: boolean;
  /** Failed ops by kernel errno name ("EEXIST"); "other" for a failure that is no errno. */
  errors: Record<string, number>;
  /** What translate left out, for the Services whose report changed in this sync. */
  skipped: Skipped[];
  /**
   * Trigger times (ms since the epoch) of the EndpointSlice changes this sync programmed:
   * the network programming latency is finishedAt minus each.
   */
  triggerTimes: number[];
}

/** What one sync step found before it wrote anything: carried into its report. */
interface Translated {
  services: number;
  skipped: Skipped[];
  triggerTimes: number[];
}

export interface ReconcilerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  /** pino's; without it every level counts as enabled. */
  isLevelEnabled?(level: string): boolean;
}

export interface ReconcilerOptions {
  store: ModelStore;
  backend: Backend;
  log: ReconcilerLog;
  /** Graceful termination timeout of the current config, ms. */
  drainTimeoutMs: () => number;
  /**
   * Kernel state that follows the desired table beside the virtual servers (the masquerade
   * ipsets), told before the ops are applied. A full step is awaited; a partial one may
   * only queue its work (see MasqueradeSync.partial). A failure it reports is logged and
   * brings a full resync forward.
   */
  follower?: TableFollower;
  /** Told what the log says a cluster admin must see (the daemon turns it into Events). */
  notes?: SyncNotes;
  /** Told after each full or partial sync, with the virtual servers it translated. */
  synced?: SyncedHook;
  now?: () => number;
}

export interface SyncNotes {
  /** A Service's skipped input and warnings, once per change (as they are logged). */
  translated(service: string, skipped: readonly Skipped[], warnings: readonly Skipped[]): void;
  /**
   * The kernel refused an op. `service` is the Service holding its virtual server;
   * undefined for an address op or a Service that no longer exists.
   */
  refused(service: string | undefined, op: Op, text: string, error: Error): void;
}

/** `changed` is 'all' after a full sync; a partial sync names the keys it translated. */
export type SyncedHook = (
  table: DesiredTable,
  changed: ReadonlySet<VirtualServerKey> | 'all',
) => Promise<void>;

export interface TableFollower {
  full(table: DesiredTable): Promise<void>;
  partial(table: DesiredTable, changed: ReadonlySet<VirtualServerKey>): Promise<void>;
}

interface Retry {
  attempt: number;
  due: number;
}

const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 5 * 60_000;

function describeOp(op: Op): string {
  if (op.op === 'bindAddress' || op.op === 'unbindAddress') return `${op.op} ${op.address}`;
  const key = ipvsServiceKey(op.service) ?? '?';
  if (op.op === 'addService' || op.op === 'updateService' || op.op === 'deleteService')
    return `${op.op} ${key}`;
  return `${op.op} ${key} -> ${op.destination.address}:${op.destination.port}`;
}

/** A lost-replies overrun or anything but a kernel errno leaves the state unknown. */
function needsResync(error: Error): boolean {
  return !(error instanceof NetlinkError);
}

export class Reconciler {
  readonly table = new DesiredTable();
  readonly observed = new Map<VirtualServerKey, IpvsEntry>();
  readonly addresses = new Set<string>();
  readonly drains = new DrainTracker();
  /** Health-check node ports of the Services that have one, by service key, as last translated. */
  readonly healthChecks = new Map<string, HealthCheck>();
  private readonly retries = new Map<string, Retry>();
  /** Keys whose kernel state is unknown after a failed op: re-read before the next diff. */
  private readonly stale = new Map<VirtualServerKey, IpvsServiceId>();
  private readonly reported = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly opts: ReconcilerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** When the earliest retry is due; undefined with none. */
  nextRetry(): number | undefined {
    let min: number | undefined;
    for (const r of this.retries.values())
      if (Number.isFinite(r.due) && (min === undefined || r.due < min)) min = r.due;
    return min;
  }

  private takeDueRetries(): string[] {
    const now = this.now();
    const due: string[] = [];
    for (const [k, r] of this.retries)
      if (r.due <= now) {
        due.push(k);
        // In flight: not due again until this attempt's outcome is known.
        r.due = Number.POSITIVE_INFINITY;
      }
    return due;
  }

  /** Translates services into the table; returns the virtual server keys and addresses touched. */
  private translate(keys: ReadonlySet<string>): Translated & {
    vsKeys: Set<VirtualServerKey>;
    addresses: Set<string>;
  } {
    const vsKeys = new Set<VirtualServerKey>();
    const addresses = new Set<string>();
    const reported: Skipped[] = [];
    let services = 0;
    for (const [key, d] of this.opts.store.eachDesired(keys)) {
      services++;
      if (d.present && d.healthCheck) this.healthChecks.set(key, d.healthCheck);
      else this.healthChecks.delete(key);
      const change = this.table.update(key, d.present ? d.virtualServers : undefined);
      for (const k of change.keys) vsKeys.add(k);
      for (const a of change.addresses) addresses.add(a);
      const skipped: Skipped[] = [...d.skipped];
      for (const c of change.conflicts)
        skipped.push({
          object: `Service ${key}`,
          field: '',
          reason: `virtual server ${c.key} is already taken by Service ${c.holder}`,
        });
      if (this.report(key, skipped, d.warnings ?? [])) reported.push(...skipped);
    }
    const triggerTimes = this.opts.store.takeTriggerTimes(keys);
    return { services, vsKeys, addresses, skipped: reported, triggerTimes };
  }

  /**
   * Logs what translate left out (warn) and what it assumed (debug: a Local Service with
   * no endpoint on this node is normal), once per change, not on every resync.
   */
  private report(
    service: string,
    skipped: readonly Skipped[],
    warnings: readonly Skipped[],
  ): boolean {
    const line = (s: Skipped) => `${s.object} ${s.field}: ${s.reason}`;
    const text = [...skipped.map(line), '', ...warnings.map(line)].join('\n');
    if ((this.reported.get(service) ?? '\n') === text) return false;
    if (skipped.length + warnings.length === 0) this.reported.delete(service);
    else this.reported.set(service, text);
    for (const s of skipped)
      this.opts.log.warn({ object: s.object, field: s.field, reason: s.reason }, 'skipped');
    for (const s of warnings)
      this.opts.log.debug({ object: s.object, field: s.field, reason: s.reason }, 'warning');
    this.opts.notes?.translated(service, skipped, warnings);
    return true;
  }

  private diffKeys(keys: Iterable<VirtualServerKey>): Op[] {
    const clock = this.drains.clock(this.now(), this.opts.drainTimeoutMs());
    const ops: Op[] = [];
    for (const k of keys) {
      const want = this.table.get(k);
      const have = this.observed.get(k);
      const d =
        want && have && holdsExactly(have, want)
          ? { ops: [], draining: [] }
          : diffEntry(k, want && toIpvsEntry(want), have, clock);
      this.drains.update(k, d.draining, clock.now);
      ops.push(...d.ops);
    }
    return ops;
  }

  private addressOps(candidates: Iterable<string>): Op[] {
    const want = new Set<string>();
    const have = new Set<string>();
    for (const a of candidates) {
      if (this.table.hasAddress(a)) want.add(a);
      if (this.addresses.has(a)) have.add(a);
    }
    return diffAddresses(want, have);
  }

  /** Replaces what is remembered of these virtual servers with what the kernel holds now. */
  private async reread(services: ReadonlyMap<VirtualServerKey, IpvsServiceId>): Promise<void> {
    if (services.size === 0) return;
    const fresh = await this.opts.backend.observeServices([...services.values()]);
    for (const k of services.keys()) {
      const e = fresh.get(k);
      if (e) this.observed.set(k, e);
      else this.observed.delete(k);
    }
  }

  private async refreshStale(): Promise<void> {
    const stale = new Map(this.stale);
    this.stale.clear();
    await this.reread(stale);
  }

  /**
   * Replaces the remembered kernel state with a dump, takes the node's addresses from it,
   * translates every Service and diffs everything.
   */
  private async resync(): Promise<{ ops: Op[]; translated: Translated }> {
    const obs = await this.opts.backend.observe(
      (k) => this.table.get(k) !== undefined,
      this.observed,
    );
    this.observed.clear();
    for (const [k, e] of obs.entries) this.observed.set(k, e);
    this.addresses.clear();
    for (const a of obs.addresses) this.addresses.add(a);
    this.stale.clear();
    const node = this.opts.store.currentNode;
    if (node.addresses.join(',') !== obs.nodeAddresses.join(','))
      this.opts.store.setNodeInfo({ ...node, addresses: obs.nodeAddresses });
    this.opts.store.markAll();
    // Services being retried are translated too, even when they no longer exist.
    const t = this.translate(new Set([...this.opts.store.takeDirty(), ...this.retries.keys()]));
    const keys = new Set<VirtualServerKey>([...this.table.keys(), ...this.observed.keys()]);
    const ops = [
      ...this.diffKeys(keys),
      ...this.addressOps(new Set([...this.table.addresses(), ...this.addresses])),
    ];
    return { ops, translated: t };
  }

  /** Full resync: dump what the backend owns, translate everything, repair every difference. */
  async full(): Promise<SyncReport> {
    const { followed, report } = await this.fullStep();
    await this.opts.synced?.(this.table, 'all');
    return this.withFollow(followed, report);
  }

  /**
   * The ops of a full sync live in this frame only, so they are garbage before the synced
   * hook runs: a cold start's 120 000 (with their destinations, 17 MB at bench scale)
   * would otherwise stay alive through the owner map's write, at the peak of the heap.
   */
  private async fullStep(): Promise<{ followed: boolean; report: SyncReport }> {
    const start = this.now();
    const retried = [...this.retries.keys()];
    const { ops, translated } = await this.resync();
    const followed = await this.follow((f) => f.full(this.table));
    return { followed, report: await this.apply('full', ops, translated, start, retried) };
  }

  private async follow(step: (f: TableFollower) => Promise<void>): Promise<boolean> {
    const f = this.opts.follower;
    if (!f) return true;
    try {
      await step(f);
      return true;
    } catch (e) {
      this.opts.log.warn(
        { error: e instanceof Error ? e.message : String(e) },
        'keeping the masquerade rules and sets in step failed',
      );
      return false;
    }
  }

  private withFollow(ok: boolean, report: SyncReport): SyncReport {
    return ok ? report : { ...report, needFull: true };
  }

  /** What a full sync would do now, without doing it (plan, and --once's check). */
  async plan(): Promise<Op[]> {
    return orderOps((await this.resync()).ops);
  }

  /**
   * Re-reads the virtual servers among `keys` that keep existing but lose a TCP or SCTP
   * real server: whether it drains or goes at once depends on its connection counts now,
   * not on those remembered from the last dump or from when it was added (0).
   */
  private async refreshLeaving(keys: Iterable<VirtualServerKey>): Promise<void> {
    // A backend without connection counts would read back zeros: the remembered ones.
    if (!this.opts.backend.countsConnections) return;
    const refresh = new Map<VirtualServerKey, IpvsServiceId>();
    for (const k of keys) {
      const have = this.observed.get(k);
      const want = this.table.get(k);
      if (!have || !want || have.service.protocol === IPPROTO_UDP) continue;
      // A real server's address and port are its destination's (toIpvsDestinations): the
      // ids come from the table without converting the entry, which diffKeys does next.
      const kept = new Set(want.realServers.map(destinationId));
      if (have.destinations.some((d) => !kept.has(destinationId(d)))) refresh.set(k, have.service);
    }
    await this.reread(refresh);
  }

  /** The dirty Services (and retries that are due) against the remembered kernel state. */
  async partial(): Promise<SyncReport> {
    const start = this.now();
    await this.refreshStale();
    const due = this.takeDueRetries();
    const t = this.translate(new Set([...this.opts.store.takeDirty(), ...due]));
    await this.refreshLeaving(t.vsKeys);
    const ops = [...this.diffKeys(t.vsKeys), ...this.addressOps(t.addresses)];
    const followed =
      t.vsKeys.size === 0 || (await this.follow((f) => f.partial(this.table, t.vsKeys)));
    const report = await this.apply('partial', ops, t, start, due);
    if (t.vsKeys.size > 0) await this.opts.synced?.(this.table, t.vsKeys);
    return this.withFollow(followed, report);
  }

  /** Re-reads the virtual servers with draining real servers and deletes those that are done. */
  async drain(): Promise<SyncReport> {
    const start = this.now();
    const keys = [...this.drains.virtualServers()] as VirtualServerKey[];
    const services = new Map<VirtualServerKey, IpvsServiceId>();
    for (const k of keys) {
      const e = this.observed.get(k);
      if (e) services.set(k, e.service);
    }
    await this.reread(services);
    const none: Translated = { services: 0, skipped: [], triggerTimes: [] };
    return this.apply('drain', this.diffKeys(keys), none, start, []);
  }

  private async apply(
    kind: SyncKind,
    unordered: Op[],
    translated: Translated,
    start: number,
    retried: readonly string[],
  ): Promise<SyncReport> {
    const ops = orderOps(unordered);
    const results: OpResult[] = ops.length > 0 ? await this.opts.backend.apply(ops) : [];
    const finishedAt = this.now();
    const byOp: SyncReport['byOp'] = {};
    const errors: SyncReport['errors'] = {};
    const failedOwners = new Set<string>();
    let failed = 0;
    let needFull = false;
    // A cold start applies 100 000+ ops: their text is built only when it is logged.
    const debug = this.opts.log.isLevelEnabled?.('debug') ?? true;
    ops.forEach((op, i) => {
      const r = results[i] ?? { ok: false, error: new Error('no result') };
      const count = (byOp[op.op] ??= { ok: 0, failed: 0 });
      if (r.ok) {
        count.ok++;
        recordOp(this.observed, this.addresses, op);
        if (debug) this.opts.log.debug({ op: describeOp(op) }, 'applied');
        return;
      }
      count.failed++;
      failed++;
      const errno = r.error instanceof NetlinkError ? r.error.code : 'other';
      errors[errno] = (errors[errno] ?? 0) + 1;
      if (needsResync(r.error)) needFull = true;
      const owner = this.onFailure(op, r.error);
      if (owner !== undefined) failedOwners.add(owner);
    });
    for (const k of retried) if (!failedOwners.has(k)) this.retries.delete(k);
    const report: SyncReport = {
      kind,
      services: translated.services,
      ops: ops.length,
      failed,
      byOp,
      durationMs: this.now() - start,
      finishedAt,
      needFull,
      errors,
      skipped: translated.skipped,
      triggerTimes: translated.triggerTimes,
    };
    if (ops.length > 0 || kind === 'full') {
      const { kind: k, services, durationMs } = report;
      // The lists (skipped, trigger times) have their own log lines and metrics.
      this.opts.log.info(
        { kind: k, services, ops: ops.length, failed, byOp, durationMs, needFull },
        'synced',
      );
    }
    return report;
  }

  /** Logs a failed op and schedules its Service's retry; returns that Service. */
  private onFailure(op: Op, error: Error): string | undefined {
    let owner: string | undefined;
    if (op.op === 'bindAddress' || op.op === 'unbindAddress') {
      this.opts.log.warn({ op: describeOp(op), error: error.message }, 'operation failed');
      this.opts.notes?.refused(undefined, op, describeOp(op), error);
      return undefined;
    }
    const key = ipvsServiceKey(op.service);
    if (key) {
      owner = this.table.holder(key);
      this.stale.set(key, op.service);
    }
    const svc = owner ?? '(removed service)';
    this.opts.log.warn(
      { service: svc, op: describeOp(op), error: error.message },
      `Service ${svc}: the kernel refused ${describeOp(op)}: ${error.message}`,
    );
    this.opts.notes?.refused(owner, op, describeOp(op), error);
    if (owner === undefined) return undefined;
    const prev = this.retries.get(owner);
    // Several failed ops of one Service in one sync count as one attempt.
    if (prev && Number.isFinite(prev.due) && prev.due > this.now()) return owner;
    const attempt = (prev?.attempt ?? 0) + 1;
    const delay = Math.min(RETRY_BASE_MS * 2 ** (attempt - 1), RETRY_MAX_MS);
    this.retries.set(owner, { attempt, due: this.now() + delay });
    return owner;
  }
}

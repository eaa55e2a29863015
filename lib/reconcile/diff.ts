// Desired vs observed → the fewest operations that make the kernel equal the desired
// state. Pure. Everything is updated in place (SET_SERVICE, SET_DEST): flushing and
// re-adding is 10-20× slower because every new destination scans the kernel's trash list,
// and it would drop established connections.
import type { IpvsOp } from '../../bindings/ipvs/client.js';
import type { IpvsDestination, IpvsService } from '../../bindings/ipvs/types.js';
import {
  copyDestination,
  isDestinationOf,
  sameSettings,
  toIpvsService,
  type IpvsEntry,
} from '../backends/ipvs/convert.js';
import { realServerKey } from '../backends/ipvs/key.js';
import type { VirtualServer, VirtualServerKey } from '../model/types.js';
import { drainVerdict, type DrainClock } from './drain.js';

export type AddressOp =
  { op: 'bindAddress'; address: string } | { op: 'unbindAddress'; address: string };

/** What a backend applies: an IPVS table change or a virtual address (un)binding. */
export type Op = IpvsOp | AddressOp;

export interface EntryDiff {
  readonly ops: IpvsOp[];
  /** Real servers kept at weight 0 after this diff, by realServerKey. */
  readonly draining: string[];
}

const IPPROTO_UDP = 17;

/** The fields SET_SERVICE changes: two dumps of one key that agree on them are the same. */
export function sameService(a: IpvsService, b: IpvsService): boolean {
  return (
    a.scheduler === b.scheduler &&
    a.flags === b.flags &&
    a.timeout === b.timeout &&
    a.netmask === b.netmask &&
    a.peName === b.peName
  );
}

/** The fields SET_DEST changes: two real servers of one id that agree on them are the same. */
export function sameDestination(a: IpvsDestination, b: IpvsDestination): boolean {
  return a.weight === b.weight && sameSettings(a, b);
}

/** A real server's identity within its virtual server. */
export const destinationId = (d: { address: string; port: number }): string =>
  `${d.address}|${d.port}`;

/**
 * How `ys` lines up with `xs` element by element: reversed (the kernel lists a service's
 * real servers newest first, what is remembered or wanted has them in the order added),
 * in the same order, or neither (undefined, also for lists of different lengths).
 */
export function alignment<X, Y>(
  xs: readonly X[],
  ys: readonly Y[],
  same: (x: X, y: Y) => boolean,
): 'reversed' | 'same' | undefined {
  const n = xs.length;
  if (ys.length !== n) return undefined;
  let inOrder = true;
  let reversed = true;
  for (let i = 0; i < n && (inOrder || reversed); i++) {
    const x = xs[i] as X;
    inOrder &&= same(x, ys[i] as Y);
    reversed &&= same(x, ys[n - 1 - i] as Y);
  }
  return reversed ? 'reversed' : inOrder ? 'same' : undefined;
}

/**
 * The kernel's entry holds exactly the virtual server: its service as toIpvsService gives
 * it, and its real servers, in their order or in the kernel's newest-first order. Then
 * diffEntry has nothing to do (no op, nothing draining), and a resync that finds 10 000
 * entries so need not build their 100 000 destinations to learn it.
 */
export function holdsExactly(have: IpvsEntry, want: VirtualServer): boolean {
  return (
    alignment(want.realServers, have.destinations, (rs, d) => isDestinationOf(d, rs)) !==
      undefined && sameService(toIpvsService(want), have.service)
  );
}

/**
 * One virtual server. A real server that is no longer desired is deleted at once for UDP
 * (its conntrack entries are the backend's business) and drained for TCP and SCTP: weight
 * 0, then deleted when its connections reach 0 or the drain clock says it has waited long
 * enough. A draining real server that is desired again gets its weight back.
 */
export function diffEntry(
  key: VirtualServerKey,
  desired: IpvsEntry | undefined,
  observed: IpvsEntry | undefined,
  clock: DrainClock,
): EntryDiff {
  const ops: IpvsOp[] = [];
  const draining: string[] = [];
  if (!desired) {
    if (observed) ops.push({ op: 'deleteService', service: observed.service });
    return { ops, draining };
  }
  const service = desired.service;
  if (!observed) {
    ops.push({ op: 'addService', service });
    for (const destination of desired.destinations)
      ops.push({ op: 'addDestination', service, destination });
    return { ops, draining };
  }
  if (!sameService(service, observed.service)) ops.push({ op: 'updateService', service });
  const have = new Map(observed.destinations.map((d) => [destinationId(d), d]));
  for (const destination of desired.destinations) {
    const now = have.get(destinationId(destination));
    have.delete(destinationId(destination));
    if (!now) ops.push({ op: 'addDestination', service, destination });
    else if (!sameDestination(destination, now))
      ops.push({ op: 'updateDestination', service, destination });
  }
  for (const gone of have.values()) {
    const rsKey = realServerKey(key, gone);
    const verdict =
      service.protocol === IPPROTO_UDP ? 'delete' : drainVerdict(gone, clock.since(rsKey), clock);
    if (verdict === 'delete') {
      ops.push({ op: 'deleteDestination', service, destination: gone });
      continue;
    }
    draining.push(rsKey);
    if (gone.weight !== 0)
      ops.push({
        op: 'updateDestination',
        service,
        destination: copyDestination(gone, 0, gone.activeConns, gone.inactiveConns),
      });
  }
  return { ops, draining };
}

/** Virtual addresses: bind the missing, unbind the unwanted. */
export function diffAddresses(
  desired: ReadonlySet<string>,
  observed: ReadonlySet<string>,
): AddressOp[] {
  const ops: AddressOp[] = [];
  for (const address of desired)
    if (!observed.has(address)) ops.push({ op: 'bindAddress', address });
  for (const address of observed)
    if (!desired.has(address)) ops.push({ op: 'unbindAddress', address });
  return ops;
}

/**
 * The order a batch is applied in: addresses are bound before services use them, real
 * servers come after their service, services are deleted before their address goes.
 */
export function orderOps(ops: readonly Op[]): Op[] {
  const rank = (o: Op): number => {
    switch (o.op) {
      case 'bindAddress':
        return 0;
      case 'unbindAddress':
        return 3;
      case 'deleteService':
        return 2;
      default:
        return 1;
    }
  };
  // Stable: within a rank, the per-service order diffEntry produced is kept. Four
  // buckets rather than a sort: a cold sync orders 100 000+ ops.
  const buckets: Op[][] = [[], [], [], []];
  for (const o of ops) (buckets[rank(o)] as Op[]).push(o);
  return buckets.flat();
}

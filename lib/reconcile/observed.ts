// What the kernel holds after an operation succeeded, so a partial sync can diff against
// memory instead of dumping the kernel. Pure.
import type { IpvsDestination } from '../../bindings/ipvs/types.js';
import { copyDestination, type IpvsEntry } from '../backends/ipvs/convert.js';
import { ipvsServiceKey } from '../backends/ipvs/key.js';
import type { VirtualServerKey } from '../model/types.js';
import { alignment, destinationId, sameDestination, sameService, type Op } from './diff.js';

const sameDest = (a: { address: string; port: number }, b: { address: string; port: number }) =>
  a.address === b.address && a.port === b.port;

/**
 * The destination as remembered. An op's destination that already has the connection
 * counts (toIpvsDestinations gives them, 0 as for a new real server) is kept itself: a
 * cold sync remembers 100 000, and a copy of each beside the op's would be 12 MB more at
 * the peak. Anything else is copied.
 */
function remembered(
  d: IpvsDestination,
  activeConns: number,
  inactiveConns: number,
): IpvsDestination {
  if (d.activeConns !== undefined && d.inactiveConns !== undefined) {
    d.activeConns = activeConns;
    d.inactiveConns = inactiveConns;
    return d;
  }
  return copyDestination(d, d.weight, activeConns, inactiveConns);
}

/**
 * Puts the destination into the list in place: a cold sync adds a Service's real servers
 * one op at a time, and copying the list per op made that quadratic in the endpoints.
 * Applying the same op twice leaves one entry.
 */
function upsertDest(list: IpvsDestination[], d: IpvsDestination): void {
  const i = list.findIndex((x) => sameDest(x, d));
  if (i < 0) {
    list.push(remembered(d, 0, 0));
    return;
  }
  const prev = list[i] as IpvsDestination;
  // The kernel keeps a real server's connections across SET_DEST.
  list[i] = remembered(d, prev.activeConns ?? 0, prev.inactiveConns ?? 0);
}

/** Records one successful operation into the observed table and address set. */
export function recordOp(
  entries: Map<VirtualServerKey, IpvsEntry>,
  addresses: Set<string>,
  op: Op,
): void {
  if (op.op === 'bindAddress') {
    addresses.add(op.address);
    return;
  }
  if (op.op === 'unbindAddress') {
    addresses.delete(op.address);
    return;
  }
  const key = ipvsServiceKey(op.service);
  if (!key) return;
  const entry = entries.get(key);
  switch (op.op) {
    case 'addService':
      entries.set(key, { service: op.service, destinations: [] });
      return;
    case 'updateService':
      entries.set(key, { service: op.service, destinations: entry?.destinations ?? [] });
      return;
    case 'deleteService':
      entries.delete(key);
      return;
    case 'addDestination':
    case 'updateDestination':
      if (entry) upsertDest(entry.destinations, op.destination);
      return;
    case 'deleteDestination':
      if (entry)
        entries.set(key, {
          service: entry.service,
          destinations: entry.destinations.filter((d) => !sameDest(d, op.destination)),
        });
      return;
  }
}

/**
 * The remembered entry when a fresh dump of it shows the same service and real servers
 * (connection counts copied in), else the fresh one. A resync dumps every real server; kept
 * this way, the fresh objects of an unchanged table die young instead of replacing 100 000
 * remembered ones, which would be collected only by a full garbage collection.
 */
export function reuseRemembered(remembered: IpvsEntry | undefined, fresh: IpvsEntry): IpvsEntry {
  // Both are of one key (the caller looks the remembered one up by the fresh one's), so
  // what can differ is what SET_SERVICE and SET_DEST change, and which real servers.
  if (!remembered || remembered.destinations.length !== fresh.destinations.length) return fresh;
  if (!sameService(remembered.service, fresh.service)) return fresh;
  const same = (d: IpvsDestination, n: IpvsDestination | undefined): n is IpvsDestination =>
    n !== undefined && sameDest(d, n) && sameDestination(d, n);
  // Matched by position (reversed or not, see alignment), else by address and port.
  const dumped = fresh.destinations;
  const order = alignment(remembered.destinations, dumped, same);
  const byId = order === undefined ? new Map(dumped.map((n) => [destinationId(n), n])) : undefined;
  const match = (d: IpvsDestination, i: number): IpvsDestination | undefined =>
    order === 'reversed'
      ? dumped[dumped.length - 1 - i]
      : order === 'same'
        ? dumped[i]
        : byId?.get(destinationId(d));
  if (order === undefined && !remembered.destinations.every((d, i) => same(d, match(d, i))))
    return fresh;
  remembered.destinations.forEach((d, i) => {
    const n = match(d, i) as IpvsDestination;
    d.activeConns = n.activeConns ?? 0;
    d.inactiveConns = n.inactiveConns ?? 0;
  });
  return remembered;
}

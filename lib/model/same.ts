// Value equality of translate's output, so a table that translates a Service again can keep
// the objects it already holds when nothing changed (a full resync translates every
// Service; the copies it would keep instead outlive the young generation, then die).
import type { RealServer, ServiceOwner, VirtualServer } from './types.js';

function sameList<T>(
  a: readonly T[] | undefined,
  b: readonly T[] | undefined,
  same: (x: T, y: T) => boolean,
): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i] as T, b[i] as T)) return false;
  return true;
}

const is = <T>(x: T, y: T): boolean => x === y;

function sameRealServer(a: RealServer, b: RealServer): boolean {
  return a.address === b.address && a.port === b.port && a.weight === b.weight;
}

function sameOwner(a: ServiceOwner, b: ServiceOwner): boolean {
  return (
    a.namespace === b.namespace &&
    a.name === b.name &&
    a.portName === b.portName &&
    a.servicePort === b.servicePort &&
    a.kind === b.kind
  );
}

/** Every field of the two virtual servers is equal (lists element by element, in order). */
export function sameVirtualServer(a: VirtualServer, b: VirtualServer): boolean {
  return (
    a === b ||
    (a.key === b.key &&
      a.family === b.family &&
      a.protocol === b.protocol &&
      a.address === b.address &&
      a.port === b.port &&
      a.scheduler === b.scheduler &&
      sameList(a.schedulerFlags, b.schedulerFlags, is) &&
      a.persistenceTimeout === b.persistenceTimeout &&
      a.netmask === b.netmask &&
      a.trafficPolicy === b.trafficPolicy &&
      sameList(a.sourceRanges, b.sourceRanges, is) &&
      sameList(a.realServers, b.realServers, sameRealServer) &&
      sameOwner(a.owner, b.owner))
  );
}

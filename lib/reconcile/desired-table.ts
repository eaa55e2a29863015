// The desired table of the whole node, kept per event: each Service's virtual servers,
// which Service wins a virtual server two of them claim (the first by service key, as
// render decides), and how many winning virtual servers use each virtual address. An
// update costs O(that Service's virtual servers), never O(all).
import {
  addToGroup,
  firstKey,
  removeFromGroup,
  type SortedKeys,
} from '../collections/sorted-keys.js';
import { sameVirtualServer } from '../model/same.js';
import type { VirtualServer, VirtualServerKey } from '../model/types.js';

export interface TableChange {
  /** Virtual servers whose winner or content may have changed. */
  readonly keys: Set<VirtualServerKey>;
  /** Virtual addresses that may have become wanted or unwanted on the dummy interface. */
  readonly addresses: Set<string>;
  /** Keys this Service claims that another Service (named) already holds. */
  readonly conflicts: Array<{ key: VirtualServerKey; holder: string }>;
}

/** ClusterIP, externalIP and LoadBalancer addresses live on the dummy interface. */
export function bindsAddress(vs: VirtualServer): boolean {
  return vs.owner.kind !== 'NodePort';
}

/**
 * A Service's virtual servers, in translate's order: a scan finds one of a handful soonest
 * and costs least memory; past SCAN_LIMIT, a Map by key. With a Map per Service and a Set
 * of claiming Services per key, 10 000 Services took 4 MB of the daemon's heap for these.
 */
type Held = readonly VirtualServer[] | ReadonlyMap<VirtualServerKey, VirtualServer>;
const SCAN_LIMIT = 16;

export class DesiredTable {
  /** Each Service's virtual servers, in translate's order. */
  private readonly byService = new Map<string, Held>();
  /** The Services claiming each key, by service key: the first holds it. */
  private readonly claimants = new Map<VirtualServerKey, SortedKeys>();
  private readonly addressRefs = new Map<string, number>();

  /** The winning Service's virtual server for a key. */
  get(key: VirtualServerKey): VirtualServer | undefined {
    const holder = this.holder(key);
    return holder === undefined ? undefined : find(this.byService.get(holder), key);
  }

  /** The Service key that holds a virtual server key. */
  holder(key: VirtualServerKey): string | undefined {
    return firstKey(this.claimants.get(key));
  }

  keys(): IterableIterator<VirtualServerKey> {
    return this.claimants.keys();
  }

  /** Virtual addresses wanted on the dummy interface. */
  addresses(): Set<string> {
    return new Set(this.addressRefs.keys());
  }

  hasAddress(address: string): boolean {
    return this.addressRefs.has(address);
  }

  get size(): number {
    return this.claimants.size;
  }

  /** Replaces a Service's virtual servers; [] or undefined removes the Service. */
  update(service: string, virtualServers: readonly VirtualServer[] | undefined): TableChange {
    const old = this.byService.get(service);
    const oldKeys = [...values(old)].map((vs) => vs.key);
    // What is held already stays when equal: the new copy dies young.
    let kept = 0;
    let next = (virtualServers ?? []).map((vs) => {
      const had = find(old, vs.key);
      if (had === undefined || !sameVirtualServer(had, vs)) return vs;
      kept++;
      return had;
    });
    const nextKeys = new Set(next.map((vs) => vs.key));
    // One virtual server per key, the last as a Map would keep it.
    if (nextKeys.size < next.length) next = [...new Map(next.map((vs) => [vs.key, vs])).values()];
    const keys = new Set<VirtualServerKey>([...oldKeys, ...nextKeys]);
    const before = new Map([...keys].map((k) => [k, this.get(k)] as const));

    for (const k of oldKeys) if (!nextKeys.has(k)) this.unclaim(k, service);
    for (const k of nextKeys) this.claim(k, service);
    const unchanged = old !== undefined && kept === oldKeys.length && kept === next.length;
    if (next.length === 0) this.byService.delete(service);
    else if (!unchanged) this.byService.set(service, hold(next));

    const addresses = new Set<string>();
    const conflicts: TableChange['conflicts'] = [];
    for (const k of keys) {
      const was = before.get(k);
      const now = this.get(k);
      if (was && bindsAddress(was)) this.countAddress(was.address, -1, addresses);
      if (now && bindsAddress(now)) this.countAddress(now.address, 1, addresses);
      const holder = this.holder(k);
      if (nextKeys.has(k) && holder !== undefined && holder !== service)
        conflicts.push({ key: k, holder });
    }
    return { keys, addresses, conflicts };
  }

  private claim(key: VirtualServerKey, service: string): void {
    addToGroup(this.claimants, key, service);
  }

  private unclaim(key: VirtualServerKey, service: string): void {
    removeFromGroup(this.claimants, key, service);
  }

  private countAddress(address: string, delta: 1 | -1, changed: Set<string>): void {
    const n = (this.addressRefs.get(address) ?? 0) + delta;
    const had = this.addressRefs.has(address);
    if (n > 0) this.addressRefs.set(address, n);
    else this.addressRefs.delete(address);
    if (had !== n > 0) changed.add(address);
  }
}

function hold(virtualServers: readonly VirtualServer[]): Held {
  return virtualServers.length > SCAN_LIMIT
    ? new Map(virtualServers.map((vs) => [vs.key, vs]))
    : virtualServers;
}

function values(held: Held | undefined): Iterable<VirtualServer> {
  if (held === undefined) return [];
  return Array.isArray(held)
    ? held
    : (held as ReadonlyMap<VirtualServerKey, VirtualServer>).values();
}

function find(held: Held | undefined, key: VirtualServerKey): VirtualServer | undefined {
  if (held === undefined) return undefined;
  return Array.isArray(held)
    ? (held as readonly VirtualServer[]).find((vs) => vs.key === key)
    : (held as ReadonlyMap<VirtualServerKey, VirtualServer>).get(key);
}

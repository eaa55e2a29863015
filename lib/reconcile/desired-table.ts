// The desired table of the whole node, kept per event: each Service's virtual servers,
// which Service wins a virtual server two of them claim (the first by service key, as
// render decides), and how many winning virtual servers use each virtual address. An
// update costs O(that Service's virtual servers), never O(all).
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

export class DesiredTable {
  private readonly byService = new Map<string, Map<VirtualServerKey, VirtualServer>>();
  private readonly claimants = new Map<VirtualServerKey, Set<string>>();
  private readonly addressRefs = new Map<string, number>();

  /** The winning Service's virtual server for a key. */
  get(key: VirtualServerKey): VirtualServer | undefined {
    const holder = this.holder(key);
    return holder === undefined ? undefined : this.byService.get(holder)?.get(key);
  }

  /** The Service key that holds a virtual server key. */
  holder(key: VirtualServerKey): string | undefined {
    const set = this.claimants.get(key);
    if (!set) return undefined;
    let min: string | undefined;
    for (const s of set) if (min === undefined || s < min) min = s;
    return min;
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
    const old = this.byService.get(service) ?? new Map<VirtualServerKey, VirtualServer>();
    let next = new Map<VirtualServerKey, VirtualServer>();
    let kept = 0;
    for (const vs of virtualServers ?? []) {
      // What is held already stays when equal: the new copy dies young.
      const had = old.get(vs.key);
      const same = had !== undefined && sameVirtualServer(had, vs);
      if (same) kept++;
      next.set(vs.key, same ? had : vs);
    }
    if (kept === old.size && kept === next.size) next = old;
    const keys = new Set<VirtualServerKey>([...old.keys(), ...next.keys()]);
    const before = new Map([...keys].map((k) => [k, this.get(k)] as const));

    for (const k of old.keys()) if (!next.has(k)) this.unclaim(k, service);
    for (const k of next.keys()) this.claim(k, service);
    if (next.size > 0) this.byService.set(service, next);
    else this.byService.delete(service);

    const addresses = new Set<string>();
    const conflicts: TableChange['conflicts'] = [];
    for (const k of keys) {
      const was = before.get(k);
      const now = this.get(k);
      if (was && bindsAddress(was)) this.countAddress(was.address, -1, addresses);
      if (now && bindsAddress(now)) this.countAddress(now.address, 1, addresses);
      const holder = this.holder(k);
      if (next.has(k) && holder !== undefined && holder !== service)
        conflicts.push({ key: k, holder });
    }
    return { keys, addresses, conflicts };
  }

  private claim(key: VirtualServerKey, service: string): void {
    let set = this.claimants.get(key);
    if (!set) {
      set = new Set();
      this.claimants.set(key, set);
    }
    set.add(service);
  }

  private unclaim(key: VirtualServerKey, service: string): void {
    const set = this.claimants.get(key);
    if (!set) return;
    set.delete(service);
    if (set.size === 0) this.claimants.delete(key);
  }

  private countAddress(address: string, delta: 1 | -1, changed: Set<string>): void {
    const n = (this.addressRefs.get(address) ?? 0) + delta;
    const had = this.addressRefs.has(address);
    if (n > 0) this.addressRefs.set(address, n);
    else this.addressRefs.delete(address);
    if (had !== n > 0) changed.add(address);
  }
}

// Which ipset members the desired table asks for, kept per event: each virtual server
// contributes its members, counted, so a member shared by several (an endpoint behind a
// ClusterIP and a NodePort) stays until the last one goes. An update costs O(that virtual
// server's members); only a full resync compares everything with the kernel.
import type { IptablesFamily } from '../../../bindings/iptables/run.js';
import type { VirtualServer, VirtualServerKey } from '../../model/types.js';
import { SET_ROLES, setName, type SetRole } from './masquerade.js';

export interface Member {
  set: string;
  entry: string;
}

export interface MemberChange {
  add: Member[];
  del: Member[];
}

export function familyNumber(vs: VirtualServer): IptablesFamily {
  return vs.family === 'IPv4' ? 4 : 6;
}

/** The set members one virtual server needs (ipset's ip,proto:port[,ip] syntax). */
export function membersOf(vs: VirtualServer): Member[] {
  const f = familyNumber(vs);
  const proto = vs.protocol.toLowerCase();
  const out: Member[] = [];
  const entry = `${vs.address},${proto}:${vs.port}`;
  if (vs.owner.kind === 'ClusterIP') out.push({ set: setName(f, 'clusterIP'), entry });
  else if (vs.trafficPolicy === 'Cluster') out.push({ set: setName(f, 'external'), entry });
  // Hairpin: the endpoint as destination and as source of the same packet.
  for (const rs of vs.realServers)
    out.push({
      set: setName(f, 'loopBack'),
      entry: `${rs.address},${proto}:${rs.port},${rs.address}`,
    });
  return out;
}

const keyOf = (m: Member): string => `${m.set} ${m.entry}`;

/** Whether two versions of a virtual server ask for the same members (membersOf's inputs). */
function sameMembers(a: VirtualServer, b: VirtualServer): boolean {
  if (
    a.family !== b.family ||
    a.protocol !== b.protocol ||
    a.address !== b.address ||
    a.port !== b.port ||
    a.owner.kind !== b.owner.kind ||
    a.trafficPolicy !== b.trafficPolicy ||
    a.realServers.length !== b.realServers.length
  )
    return false;
  return a.realServers.every((rs, i) => {
    const o = b.realServers[i];
    return o !== undefined && o.address === rs.address && o.port === rs.port;
  });
}
const familyOfKey = (k: string): IptablesFamily => (k.startsWith('KUBE-IPVS-6-') ? 6 : 4);

export class SetMembership {
  /**
   * The virtual server each key's members were taken from (the desired table's own
   * object, never changed in place): its members are recomputed when it changes rather
   * than kept, which would be 100 000 more objects at bench scale.
   */
  private readonly byServer = new Map<VirtualServerKey, VirtualServer>();
  private readonly refs = new Map<string, number>();
  /** Wanted members per family, so families() is O(1) on every partial sync. */
  private readonly perFamily = { 4: 0, 6: 0 };
  /** Wanted members per set, so a resync compares sizes without listing members. */
  private readonly perSet = new Map<string, number>();

  /** Sets the members of one virtual server (undefined: it is gone); returns what changed. */
  update(key: VirtualServerKey, vs: VirtualServer | undefined): MemberChange {
    const prev = this.byServer.get(key);
    const change: MemberChange = { add: [], del: [] };
    // A full resync hands over a fresh object for every virtual server; the members of one
    // that did not change are not rebuilt (at bench scale that is 100 000 strings a resync).
    if (prev && vs && sameMembers(prev, vs)) {
      this.byServer.set(key, vs);
      return change;
    }
    const before = prev ? membersOf(prev) : [];
    const after = vs ? membersOf(vs) : [];
    // Adding first keeps a member the old and new contents share at a count above 0.
    for (const m of after) if (this.bump(keyOf(m), 1) === 1) change.add.push(m);
    for (const m of before) if (this.bump(keyOf(m), -1) === 0) change.del.push(m);
    if (vs && after.length > 0) this.byServer.set(key, vs);
    else this.byServer.delete(key);
    return change;
  }

  /** The virtual servers that have members. */
  keys(): IterableIterator<VirtualServerKey> {
    return this.byServer.keys();
  }

  private bump(k: string, delta: 1 | -1): number {
    const n = (this.refs.get(k) ?? 0) + delta;
    if (n > 0) this.refs.set(k, n);
    else this.refs.delete(k);
    if (n === 1 && delta === 1) this.countMember(k, 1);
    if (n === 0) this.countMember(k, -1);
    return n;
  }

  private countMember(k: string, delta: 1 | -1): void {
    this.perFamily[familyOfKey(k)] += delta;
    const set = k.slice(0, k.indexOf(' '));
    this.perSet.set(set, (this.perSet.get(set) ?? 0) + delta);
  }

  /** How many members each set wants (a set with none may be absent). */
  size(set: string): number {
    return this.perSet.get(set) ?? 0;
  }

  /** Every wanted member, by set (each set of both families present, maybe empty). */
  wanted(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const f of [4, 6] as const) for (const r of SET_ROLES) out.set(setName(f, r), new Set());
    for (const k of this.refs.keys()) {
      const space = k.indexOf(' ');
      out.get(k.slice(0, space))?.add(k.slice(space + 1));
    }
    return out;
  }

  /** The families any wanted member belongs to. */
  families(): Set<IptablesFamily> {
    const out = new Set<IptablesFamily>();
    if (this.perFamily[4] > 0) out.add(4);
    if (this.perFamily[6] > 0) out.add(6);
    return out;
  }
}

/** What turns the kernel's members into the wanted ones, for the sets named in `wanted`. */
export function diffMembers(
  wanted: ReadonlyMap<string, ReadonlySet<string>>,
  kernel: ReadonlyMap<string, ReadonlySet<string>>,
): MemberChange {
  const change: MemberChange = { add: [], del: [] };
  for (const [set, want] of wanted) {
    const have = kernel.get(set) ?? new Set<string>();
    for (const e of want) if (!have.has(e)) change.add.push({ set, entry: e });
    for (const e of have) if (!want.has(e)) change.del.push({ set, entry: e });
  }
  return change;
}

export type { SetRole };

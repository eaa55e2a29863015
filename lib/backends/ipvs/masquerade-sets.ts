// Which ipset members the desired table asks for, kept per event: each virtual server
// contributes its members, counted, so a member shared by several (an endpoint behind a
// ClusterIP and a NodePort) stays until the last one goes. An update costs O(that virtual
// server's members); only a full resync compares everything with the kernel.
import type { IptablesFamily } from '../../../bindings/iptables/run.js';
import type { VirtualServer, VirtualServerKey } from '../../model/types.js';
import { formatInet4, writeInet4 } from '../../../bindings/inet/index.js';
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
  eachMember(vs, (role, address, port) =>
    out.push({ set: setName(f, role), entry: entryText(role, address, proto, port) }),
  );
  return out;
}

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

/** The role of a virtual server's own address in the sets, if it has one. */
function entryRole(vs: VirtualServer): SetRole | undefined {
  if (vs.owner.kind === 'ClusterIP') return 'clusterIP';
  return vs.trafficPolicy === 'Cluster' ? 'external' : undefined;
}

/**
 * Each member a virtual server asks for, as its role, address and port (the protocol is
 * the virtual server's): its own address if it has a role, and every real server for the
 * hairpin set.
 */
function eachMember(
  vs: VirtualServer,
  visit: (role: SetRole, address: string, port: number) => void,
): void {
  const role = entryRole(vs);
  if (role) visit(role, vs.address, vs.port);
  for (const rs of vs.realServers) visit('loopBack', rs.address, rs.port);
}

function entryText(role: SetRole, address: string, proto: string, port: number): string {
  // Hairpin: the endpoint as destination and as source of the same packet.
  return role === 'loopBack'
    ? `${address},${proto}:${port},${address}`
    : `${address},${proto}:${port}`;
}

/**
 * A member's identity in its set. An IPv4 member packs into one number (address, protocol,
 * port: 50 bits), a tenth of the memory of its text at 100 000 hairpin members; an IPv6
 * member is its text.
 */
type MemberKey = number | string;

/** A protocol's number in a packed key is its index here. */
const PROTO_NAMES = ['tcp', 'udp', 'sctp'];
const SCRATCH = new Uint8Array(4);

function memberKey(role: SetRole, address: string, proto: string, port: number): MemberKey {
  if (!writeInet4(address, SCRATCH)) return entryText(role, address, proto, port);
  const ip = ((SCRATCH[0] as number) << 24) + ((SCRATCH[1] as number) << 16);
  const u32 = (ip >>> 0) + (SCRATCH[2] as number) * 256 + (SCRATCH[3] as number);
  return (u32 * 4 + Math.max(0, PROTO_NAMES.indexOf(proto))) * 65536 + port;
}

function keyText(role: SetRole, key: MemberKey): string {
  if (typeof key === 'string') return key;
  const port = key % 65536;
  const rest = (key - port) / 65536;
  const proto = PROTO_NAMES[rest % 4] ?? 'tcp';
  const u32 = (rest - (rest % 4)) / 4;
  SCRATCH[0] = u32 >>> 24;
  SCRATCH[1] = (u32 >>> 16) & 0xff;
  SCRATCH[2] = (u32 >>> 8) & 0xff;
  SCRATCH[3] = u32 & 0xff;
  return entryText(role, formatInet4(SCRATCH), proto, port);
}

export class SetMembership {
  /**
   * The virtual server each key's members were taken from (the desired table's own
   * object, never changed in place): its members are recomputed when it changes rather
   * than kept, which would be 100 000 more objects at bench scale.
   */
  private readonly byServer = new Map<VirtualServerKey, VirtualServer>();
  /** Per set (family and role), each wanted member and how many virtual servers want it. */
  private readonly refs = new Map<string, Map<MemberKey, number>>();

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
    // Adding first keeps a member the old and new contents share at a count above 0.
    const added = vs ? this.count(vs, 1, change.add) : 0;
    if (prev) this.count(prev, -1, change.del);
    if (vs && added > 0) this.byServer.set(key, vs);
    else this.byServer.delete(key);
    return change;
  }

  /** Counts one virtual server's members up or down; returns how many it has. */
  private count(vs: VirtualServer, delta: 1 | -1, crossed: Member[]): number {
    const f = familyNumber(vs);
    const proto = vs.protocol.toLowerCase();
    let n = 0;
    eachMember(vs, (role, address, port) => {
      this.bump(f, role, address, proto, port, delta, crossed);
      n++;
    });
    return n;
  }

  private bump(
    family: IptablesFamily,
    role: SetRole,
    address: string,
    proto: string,
    port: number,
    delta: 1 | -1,
    crossed: Member[],
  ): void {
    const set = setName(family, role);
    let members = this.refs.get(set);
    if (!members) {
      members = new Map();
      this.refs.set(set, members);
    }
    const k = memberKey(role, address, proto, port);
    const n = (members.get(k) ?? 0) + delta;
    if (n > 0) members.set(k, n);
    else members.delete(k);
    if ((delta === 1 && n === 1) || n === 0)
      crossed.push({ set, entry: entryText(role, address, proto, port) });
  }

  /** The virtual servers that have members. */
  keys(): IterableIterator<VirtualServerKey> {
    return this.byServer.keys();
  }

  /** How many members a set wants. */
  size(set: string): number {
    return this.refs.get(set)?.size ?? 0;
  }

  /** Every wanted member, by set (each set of both families present, maybe empty). */
  wanted(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const f of [4, 6] as const)
      for (const r of SET_ROLES) {
        const set = setName(f, r);
        out.set(set, new Set([...(this.refs.get(set)?.keys() ?? [])].map((k) => keyText(r, k))));
      }
    return out;
  }

  /** The families any wanted member belongs to. */
  families(): Set<IptablesFamily> {
    const out = new Set<IptablesFamily>();
    for (const f of [4, 6] as const)
      if (SET_ROLES.some((r) => this.size(setName(f, r)) > 0)) out.add(f);
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

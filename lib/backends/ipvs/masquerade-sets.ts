// Which ipset members the desired table asks for, kept per event: each virtual server
// contributes its members, counted, so a member shared by several (an endpoint behind a
// ClusterIP and a NodePort) stays until the last one goes. An update costs O(that virtual
// server's members); only a full resync compares everything with the kernel, and it does
// so on the packed keys, handing the difference to the ipset client as values: at 100 000
// members, a text and an object per member on the way to the netlink bytes cost more
// than the rest of the sync.
import type { IptablesFamily } from '../../../bindings/iptables/run.js';
import type { IpsetElements } from '../../../bindings/ipset/client.js';
import {
  entryFamily,
  newElement,
  protoNumber,
  readEntry,
  type IpsetElement,
} from '../../../bindings/ipset/codec.js';
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

/** Hairpin: the endpoint as destination and as source of the same packet. */
function twice(role: SetRole): boolean {
  return role === 'loopBack';
}

function entryText(role: SetRole, address: string, proto: string, port: number): string {
  return twice(role) ? `${address},${proto}:${port},${address}` : `${address},${proto}:${port}`;
}

/**
 * A member's identity in its set. An IPv4 member packs into one number (address, protocol,
 * port: 50 bits), a tenth of the memory of its text at 100 000 hairpin members; an IPv6
 * member is its text, as is a member of the kernel's that is not of the form we write.
 */
type MemberKey = number | string;

/** A protocol's number in a packed key is its index here... */
const PROTO_NAMES = ['tcp', 'udp', 'sctp'];
/** ...and this is its IP protocol number, as the kernel takes it. */
const PROTO_NUMBERS = PROTO_NAMES.map((name) => {
  const n = protoNumber(name);
  if (n === undefined) throw new Error(`ipset knows no protocol ${name}`);
  return n;
});
const SCRATCH = newElement();

function pack(ip: Uint8Array, protoIndex: number, port: number): number {
  const u32 =
    (ip[0] as number) * 2 ** 24 +
    (((ip[1] as number) << 16) | ((ip[2] as number) << 8) | (ip[3] as number));
  return (u32 * 4 + protoIndex) * 65536 + port;
}

/** Writes a packed key's address, protocol and port into `e`; returns the protocol's index. */
function unpack(key: number, e: IpsetElement): number {
  const port = key % 65536;
  const rest = (key - port) / 65536;
  const protoIndex = rest % 4;
  const u32 = (rest - protoIndex) / 4;
  e.family = 'inet';
  e.ip[0] = u32 >>> 24;
  e.ip[1] = (u32 >>> 16) & 0xff;
  e.ip[2] = (u32 >>> 8) & 0xff;
  e.ip[3] = u32 & 0xff;
  e.proto = PROTO_NUMBERS[protoIndex] ?? 0;
  e.port = port;
  return protoIndex;
}

function memberKey(role: SetRole, address: string, proto: string, port: number): MemberKey {
  if (!writeInet4(address, SCRATCH.ip)) return entryText(role, address, proto, port);
  return pack(SCRATCH.ip, Math.max(0, PROTO_NAMES.indexOf(proto)), port);
}

function keyText(role: SetRole, key: MemberKey): string {
  if (typeof key === 'string') return key;
  const protoIndex = unpack(key, SCRATCH);
  return entryText(role, formatInet4(SCRATCH.ip), PROTO_NAMES[protoIndex] ?? 'tcp', SCRATCH.port);
}

/** The member a packed key stands for, as values, into `e`. */
function readPacked(role: SetRole, key: number, e: IpsetElement): void {
  unpack(key, e);
  e.hasIp2 = twice(role);
  if (e.hasIp2) for (let b = 0; b < 4; b++) e.ip2[b] = e.ip[b] as number;
}

/**
 * The key of a member as the kernel lists it: packed when it is one we would write (an
 * IPv4 address, a protocol of ours, the second address present and equal to the first
 * exactly in the hairpin set), else its text, which no wanted IPv4 member equals.
 */
function kernelKey(role: SetRole, text: string): MemberKey {
  if (entryFamily(text) !== 'inet') return text;
  const e = SCRATCH;
  try {
    readEntry(text, 'inet', e);
  } catch {
    return text;
  }
  const protoIndex = PROTO_NUMBERS.indexOf(e.proto);
  if (protoIndex < 0 || e.hasIp2 !== twice(role)) return text;
  if (
    e.hasIp2 &&
    !(e.ip[0] === e.ip2[0] && e.ip[1] === e.ip2[1] && e.ip[2] === e.ip2[2] && e.ip[3] === e.ip2[3])
  )
    return text;
  return pack(e.ip, protoIndex, e.port);
}

/** Keys of one set to send: the packed ones in a typed array (no boxed number each). */
class KeyList {
  private readonly packed: Float64Array;
  private n = 0;
  private readonly texts: string[] = [];

  constructor(room: number) {
    this.packed = new Float64Array(room);
  }

  push(k: MemberKey): void {
    if (typeof k === 'number') this.packed[this.n++] = k;
    else this.texts.push(k);
  }

  elements(op: 'add' | 'del', set: string, role: SetRole): IpsetElements {
    const packed = this.packed.subarray(0, this.n);
    const texts = this.texts;
    return {
      op,
      set,
      count: packed.length + texts.length,
      // A text key is an IPv6 member, or one of the kernel's that is not of our form.
      read: (i, e) => {
        if (i < packed.length) return readPacked(role, packed[i] as number, e);
        const text = texts[i - packed.length] as string;
        readEntry(text, entryFamily(text), e);
      },
    };
  }
}

/** What turns one set's members in the kernel into the wanted ones. */
export interface SetDiff {
  del: IpsetElements;
  add: IpsetElements;
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
    const change: MemberChange = { add: [], del: [] };
    this.apply(key, vs, change);
    return change;
  }

  /** The same, without the list of what changed: a full sync compares with the kernel. */
  set(key: VirtualServerKey, vs: VirtualServer | undefined): void {
    this.apply(key, vs, undefined);
  }

  private apply(
    key: VirtualServerKey,
    vs: VirtualServer | undefined,
    change: MemberChange | undefined,
  ): void {
    const prev = this.byServer.get(key);
    // A full resync hands over a fresh object for every virtual server; the members of one
    // that did not change are not rebuilt (at bench scale that is 100 000 strings a resync).
    if (prev && vs && sameMembers(prev, vs)) {
      this.byServer.set(key, vs);
      return;
    }
    // Adding first keeps a member the old and new contents share at a count above 0.
    const added = vs ? this.count(vs, 1, change?.add) : 0;
    if (prev) this.count(prev, -1, change?.del);
    if (vs && added > 0) this.byServer.set(key, vs);
    else this.byServer.delete(key);
  }

  /**
   * Counts one virtual server's members up or down, into `crossed` those that came or went
   * (when given); returns how many it has.
   */
  private count(vs: VirtualServer, delta: 1 | -1, crossed: Member[] | undefined): number {
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
    crossed: Member[] | undefined,
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
    if (crossed && ((delta === 1 && n === 1) || n === 0))
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

  /**
   * What turns a set's members in the kernel (their text, as ipset lists them) into the
   * wanted ones. The kernel's members are made keys once, and only when there are any:
   * at a cold start every wanted member is sent as it is packed.
   */
  diff(family: IptablesFamily, role: SetRole, kernel: ReadonlySet<string> | undefined): SetDiff {
    const set = setName(family, role);
    const want = this.refs.get(set) ?? new Map<MemberKey, number>();
    const have = new Set<MemberKey>();
    for (const text of kernel ?? []) have.add(kernelKey(role, text));
    const add = new KeyList(want.size);
    const del = new KeyList(have.size);
    // forEach rather than for-of: no iterator result per member before the code is optimized.
    want.forEach((_, k) => {
      if (!have.has(k)) add.push(k);
    });
    for (const k of have) if (!want.has(k)) del.push(k);
    return { del: del.elements('del', set, role), add: add.elements('add', set, role) };
  }

  /**
   * Every wanted member, by set (each set of both families present, maybe empty), in
   * text: what diff() compares, in the form `ipset save` prints.
   */
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

export type { SetRole };

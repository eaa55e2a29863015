// struct ifinfomsg / ifaddrmsg / rtmsg and their attributes ⇄ plain objects.
import { AF_INET, AF_INET6, type AddressFamily } from '../ipvs/types.js';
import { addressLength, formatAddress, parseAddress } from '../ipvs/address.js';
import {
  AttrMap,
  type AttrOut,
  attrsLength,
  bytes,
  nested,
  str,
  u32,
  writeAttrs,
} from '../netlink/attributes.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import * as C from './constants.js';

export interface Link {
  index: number;
  name: string;
  /** IFF_* bits. */
  flags: number;
  /** IFLA_INFO_KIND ('dummy', 'veth', …); '' when the kernel gives none. */
  kind: string;
}

export interface InterfaceAddress {
  family: AddressFamily;
  /** Canonical text. */
  address: string;
  prefixLength: number;
  /** Interface index. */
  index: number;
  scope: number;
  flags: number;
}

/** A route of type local (RTN_LOCAL): its destination is delivered to this host. */
export interface LocalRoute {
  family: AddressFamily;
  /** Canonical text of the destination. */
  address: string;
  prefixLength: number;
  table: number;
  /** RTPROT_*: RTPROT_KERNEL for the routes the kernel makes for host addresses. */
  protocol: number;
  /** Output interface index; 0 when the route names none. */
  index: number;
}

export function ifinfomsg(
  index: number,
  flags: number,
  change: number,
  attrs: readonly AttrOut[] = [],
): Buffer {
  const buf = Buffer.alloc(C.IFINFOMSG_LEN + attrsLength(attrs));
  // ifi_family AF_UNSPEC, pad, ifi_type 0.
  buf.writeInt32LE(index, 4);
  buf.writeUInt32LE(flags, 8);
  buf.writeUInt32LE(change, 12);
  writeAttrs(buf, C.IFINFOMSG_LEN, attrs);
  return buf;
}

export function linkNameAttr(name: string): AttrOut {
  if (name.length === 0 || Buffer.byteLength(name) >= C.IFNAMSIZ) {
    throw new RangeError(`interface name ${JSON.stringify(name)} must be 1-15 bytes`);
  }
  return str(C.IFLA_IFNAME, name);
}

export function linkKindAttr(kind: string): AttrOut {
  return nested(C.IFLA_LINKINFO, [str(C.IFLA_INFO_KIND, kind)]);
}

export function decodeLink(payload: Buffer): Link {
  if (payload.length < C.IFINFOMSG_LEN) {
    throw new NetlinkDecodeError(`ifinfomsg of ${payload.length} bytes`);
  }
  const a = AttrMap.parse(payload, C.IFINFOMSG_LEN);
  return {
    index: payload.readInt32LE(4),
    flags: payload.readUInt32LE(8),
    name: a.str(C.IFLA_IFNAME) ?? '',
    kind: a.nested(C.IFLA_LINKINFO)?.str(C.IFLA_INFO_KIND) ?? '',
  };
}

function familyOf(text: string): AddressFamily {
  return text.includes(':') ? AF_INET6 : AF_INET;
}

/** A host address (/32 or /128) on an interface; IPv6 without duplicate detection. */
export function ifaddrmsg(index: number, address: string): Buffer {
  const family = familyOf(address);
  const raw = parseAddress(family, address);
  const attrs: AttrOut[] = [bytes(C.IFA_LOCAL, raw), bytes(C.IFA_ADDRESS, raw)];
  if (family === AF_INET6) attrs.push(u32(C.IFA_FLAGS, C.IFA_F_NODAD));
  const buf = Buffer.alloc(C.IFADDRMSG_LEN + attrsLength(attrs));
  buf.writeUInt8(family, 0);
  buf.writeUInt8(addressLength(family) * 8, 1);
  buf.writeUInt8(family === AF_INET6 ? C.IFA_F_NODAD : 0, 2);
  buf.writeUInt8(C.RT_SCOPE_UNIVERSE, 3);
  buf.writeUInt32LE(index, 4);
  writeAttrs(buf, C.IFADDRMSG_LEN, attrs);
  return buf;
}

/** An address dump request: every address, or one family's. */
export function ifaddrDumpMsg(family: 0 | AddressFamily = 0): Buffer {
  const buf = Buffer.alloc(C.IFADDRMSG_LEN);
  buf.writeUInt8(family, 0);
  return buf;
}

export function decodeAddress(payload: Buffer): InterfaceAddress | undefined {
  if (payload.length < C.IFADDRMSG_LEN) {
    throw new NetlinkDecodeError(`ifaddrmsg of ${payload.length} bytes`);
  }
  const family = payload.readUInt8(0);
  if (family !== AF_INET && family !== AF_INET6) return undefined;
  const a = AttrMap.parse(payload, C.IFADDRMSG_LEN);
  // IFA_LOCAL is the local address on point-to-point links; IFA_ADDRESS elsewhere.
  const raw = a.get(C.IFA_LOCAL) ?? a.get(C.IFA_ADDRESS);
  if (!raw) throw new NetlinkDecodeError('address message without IFA_LOCAL or IFA_ADDRESS');
  return {
    family,
    address: formatAddress(family, raw),
    prefixLength: payload.readUInt8(1),
    index: payload.readUInt32LE(4),
    scope: payload.readUInt8(3),
    flags: a.u32(C.IFA_FLAGS) ?? payload.readUInt8(2),
  };
}

/**
 * A host route (/32 or /128) of type local in the local table through an interface: the
 * kernel delivers the address to this host as if it were bound there, but inserting one
 * costs a trie insert, where binding an address walks the interface's whole address list.
 */
export function localRouteMsg(index: number, address: string): Buffer {
  const family = familyOf(address);
  const attrs: AttrOut[] = [bytes(C.RTA_DST, parseAddress(family, address)), u32(C.RTA_OIF, index)];
  const buf = Buffer.alloc(C.RTMSG_LEN + attrsLength(attrs));
  buf.writeUInt8(family, 0);
  buf.writeUInt8(addressLength(family) * 8, 1);
  // rtm_src_len 0, rtm_tos 0.
  buf.writeUInt8(C.RT_TABLE_LOCAL, 4);
  buf.writeUInt8(C.RTPROT_STATIC, 5);
  buf.writeUInt8(C.RT_SCOPE_HOST, 6);
  buf.writeUInt8(C.RTN_LOCAL, 7);
  // rtm_flags 0.
  writeAttrs(buf, C.RTMSG_LEN, attrs);
  return buf;
}

/** A route dump request: every family's routes, every table. */
export function routeDumpMsg(): Buffer {
  return Buffer.alloc(C.RTMSG_LEN);
}

/** The route if it is of type local with a destination; undefined for any other. */
export function decodeLocalRoute(payload: Buffer): LocalRoute | undefined {
  if (payload.length < C.RTMSG_LEN) {
    throw new NetlinkDecodeError(`rtmsg of ${payload.length} bytes`);
  }
  const family = payload.readUInt8(0);
  if (family !== AF_INET && family !== AF_INET6) return undefined;
  if (payload.readUInt8(7) !== C.RTN_LOCAL) return undefined;
  const a = AttrMap.parse(payload, C.RTMSG_LEN);
  const dst = a.get(C.RTA_DST);
  if (!dst) return undefined;
  return {
    family,
    address: formatAddress(family, dst),
    prefixLength: payload.readUInt8(1),
    // rtm_table holds only 8 bits; RTA_TABLE the whole id.
    table: a.u32(C.RTA_TABLE) ?? payload.readUInt8(4),
    protocol: payload.readUInt8(5),
    index: a.u32(C.RTA_OIF) ?? 0,
  };
}

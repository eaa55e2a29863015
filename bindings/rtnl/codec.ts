// struct ifinfomsg / struct ifaddrmsg and their attributes ⇄ plain objects.
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

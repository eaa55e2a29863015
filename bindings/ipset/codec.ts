// ipset over nfnetlink, pure: requests (nfgenmsg + IPSET_ATTR_*) and the kernel's LIST and
// TYPE replies, with entries in the text form `ipset save` prints ("10.0.0.1,tcp:80",
// "10.0.0.1,udp:53,10.0.0.1"), so what is written and what is read compare as strings.
// The kernel checks attribute flags here (unlike IPVS): nested containers carry
// NLA_F_NESTED and addresses, ports and 32-bit numbers NLA_F_NET_BYTEORDER, else
// IPSET_ERR_PROTOCOL.
import { AttrMap, decodeAttrs } from '../netlink/attributes.js';
import type { Request } from '../netlink/connection.js';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER } from '../netlink/constants.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import type { NetlinkMessage } from '../netlink/message.js';
import { type AttrWriter, attrPayload, encodeWith } from '../netlink/writer.js';
import { formatInet4, formatInet6, writeInet4, writeInet6 } from '../inet/index.js';
import * as C from './constants.js';
import { checkSetName, type IpsetFamily, type IpsetSpec } from './spec.js';

/** One element of a hash:ip,port or hash:ip,port,ip set. */
export interface IpsetEntry {
  ip: string;
  /** IP protocol number (6 tcp, 17 udp, 132 sctp). */
  proto: number;
  port: number;
  /** The second address of hash:ip,port,ip. */
  ip2?: string;
}

const PROTO_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['tcp', 6],
  ['udp', 17],
  ['sctp', 132],
]);
const PROTO_NAMES: ReadonlyMap<number, string> = new Map(
  [...PROTO_NUMBERS].map(([n, v]) => [v, n]),
);

const WRITE_ADDR = { inet: writeInet4, inet6: writeInet6 } as const;
const ADDR_LEN = { inet: 4, inet6: 16 } as const;
const ADDR_ATTR = { inet: C.IPSET_ATTR_IPADDR_IPV4, inet6: C.IPSET_ATTR_IPADDR_IPV6 } as const;
const NFPROTO = { inet: C.NFPROTO_IPV4, inet6: C.NFPROTO_IPV6 } as const;

const scratch = new Uint8Array(16);

/** The family of an entry's text: IPv6 addresses hold colons, IPv4 ones do not. */
export function entryFamily(text: string): IpsetFamily {
  const comma = text.indexOf(',');
  return text.slice(0, comma < 0 ? text.length : comma).includes(':') ? 'inet6' : 'inet';
}

/** Parses "ip,proto:port[,ip]"; RangeError when it is not that, or not of `family`. */
export function parseEntry(text: string, family: IpsetFamily = entryFamily(text)): IpsetEntry {
  const parts = text.split(',');
  const [ip, pp, ip2] = parts;
  const colon = pp?.lastIndexOf(':') ?? -1;
  const proto = pp === undefined ? undefined : PROTO_NUMBERS.get(pp.slice(0, colon));
  const port = pp === undefined ? NaN : Number(pp.slice(colon + 1));
  const isAddr = (a: string | undefined): a is string =>
    a !== undefined && WRITE_ADDR[family](a, scratch, 0);
  if (
    parts.length > 3 ||
    !isAddr(ip) ||
    proto === undefined ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 0xffff ||
    (ip2 !== undefined && !isAddr(ip2))
  )
    throw new RangeError(`not an ip,proto:port[,ip] entry of family ${family}: ${text}`);
  return ip2 === undefined ? { ip, proto, port } : { ip, proto, port, ip2 };
}

export function formatEntry(e: IpsetEntry): string {
  const proto = PROTO_NAMES.get(e.proto) ?? String(e.proto);
  const base = `${e.ip},${proto}:${e.port}`;
  return e.ip2 === undefined ? base : `${base},${e.ip2}`;
}

/** A request of the ipset subsystem; every one carries IPSET_ATTR_PROTOCOL first. */
export function ipsetRequest(
  cmd: number,
  encode: (w: AttrWriter) => void,
  describe: () => string,
  flags = 0,
): Request {
  return {
    type: (C.NFNL_SUBSYS_IPSET << 8) | cmd,
    flags,
    payload: attrPayload(
      C.NFGENMSG_LEN,
      (buf, off) => {
        buf.writeUInt8(C.AF_INET, off);
        buf.writeUInt8(C.NFNETLINK_V0, off + 1);
        buf.writeUInt16BE(0, off + 2);
      },
      (w) => {
        w.u8(C.IPSET_ATTR_PROTOCOL, C.IPSET_PROTOCOL);
        encode(w);
      },
    ),
    describe,
  };
}

function writeAddr(w: AttrWriter, type: number, family: IpsetFamily, ip: string): void {
  const at = w.begin(type, NLA_F_NESTED);
  w.field(
    ADDR_ATTR[family],
    ADDR_LEN[family],
    (buf, off, text) => {
      if (!WRITE_ADDR[family](text, buf, off))
        throw new RangeError(`not an ${family} address: ${text}`);
    },
    ip,
    NLA_F_NET_BYTEORDER,
  );
  w.end(at);
}

/** The set type's revision range (IPSET_CMD_TYPE; loads the type's module if needed). */
export function typeRequest(type: string, family: IpsetFamily): Request {
  return ipsetRequest(
    C.IPSET_CMD_TYPE,
    (w) => {
      w.str(C.IPSET_ATTR_TYPENAME, type);
      w.u8(C.IPSET_ATTR_FAMILY, NFPROTO[family]);
    },
    () => `IPSET_CMD_TYPE ${type} ${family}`,
  );
}

/**
 * Creates a set. Without NLM_F_EXCL the kernel answers success when a set of that name
 * and the same parameters exists (`ipset create -exist`), an error when it differs.
 */
export function createRequest(spec: IpsetSpec, revision: number): Request {
  const name = checkSetName(spec.name);
  return ipsetRequest(
    C.IPSET_CMD_CREATE,
    (w) => {
      w.str(C.IPSET_ATTR_SETNAME, name);
      w.str(C.IPSET_ATTR_TYPENAME, spec.type);
      w.u8(C.IPSET_ATTR_REVISION, revision);
      w.u8(C.IPSET_ATTR_FAMILY, NFPROTO[spec.family]);
      const data = w.begin(C.IPSET_ATTR_DATA, NLA_F_NESTED);
      if (spec.maxelem !== undefined)
        w.be32(C.IPSET_ATTR_MAXELEM, spec.maxelem, NLA_F_NET_BYTEORDER);
      w.end(data);
    },
    () => `IPSET_CMD_CREATE ${name} ${spec.type} ${spec.family}`,
  );
}

/** SETNAME attributes by set name: a cold sync sends 100 000+ elements to three sets. */
const nameAttrs = new Map<string, Buffer>();

function nameAttr(set: string): Buffer {
  let a = nameAttrs.get(set);
  if (!a) {
    a = encodeWith((w) => w.str(C.IPSET_ATTR_SETNAME, checkSetName(set)));
    nameAttrs.set(set, a);
  }
  return a;
}

const NEST_FLAGS = NLA_F_NESTED;

/** {len, type} of an attribute header at `off`. */
function attrHeader(buf: Buffer, off: number, len: number, type: number): void {
  buf.writeUInt16LE(len, off);
  buf.writeUInt16LE(type, off + 2);
}

/** IPSET_ATTR_IP or _IP2: a nested IPADDR_IPV4/IPV6 in network order; returns the end. */
function putAddr(buf: Buffer, off: number, type: number, family: IpsetFamily, ip: string): number {
  const n = ADDR_LEN[family];
  attrHeader(buf, off, 8 + n, type | NEST_FLAGS);
  attrHeader(buf, off + 4, 4 + n, ADDR_ATTR[family] | NLA_F_NET_BYTEORDER);
  if (!WRITE_ADDR[family](ip, buf, off + 8))
    throw new RangeError(`not an ${family} address: ${ip}`);
  return off + 8 + n;
}

/** u8 attribute (padded to 8 bytes); returns the end. */
function putU8(buf: Buffer, off: number, type: number, v: number): number {
  attrHeader(buf, off, 5, type);
  buf.writeUInt32LE(0, off + 4);
  buf[off + 4] = v;
  return off + 8;
}

/**
 * Adds or deletes one element. Without NLM_F_EXCL, adding one that is there and
 * deleting one that is not succeed (`ipset -exist`). The layout is fixed, so the bytes
 * are written directly rather than through AttrWriter's counting pass: a cold sync
 * encodes one of these per endpoint. `e` must come from parseEntry (addresses of
 * `family`); the unit tests compare the bytes with AttrWriter's.
 */
export function elementRequest(
  op: 'add' | 'del',
  set: string,
  family: IpsetFamily,
  e: IpsetEntry,
): Request {
  const name = nameAttr(set);
  const addr = 8 + ADDR_LEN[family];
  const data = 4 + addr + 8 + 8 + (e.ip2 === undefined ? 0 : addr);
  const length = C.NFGENMSG_LEN + 8 + name.length + data;
  return {
    type: (C.NFNL_SUBSYS_IPSET << 8) | (op === 'add' ? C.IPSET_CMD_ADD : C.IPSET_CMD_DEL),
    flags: 0,
    payload: {
      length,
      write(buf: Buffer, at: number): void {
        buf.writeUInt32LE(0, at);
        buf[at] = C.AF_INET; // nfgenmsg: family, NFNETLINK_V0, res_id 0
        let off = putU8(buf, at + C.NFGENMSG_LEN, C.IPSET_ATTR_PROTOCOL, C.IPSET_PROTOCOL);
        name.copy(buf, off);
        off += name.length;
        attrHeader(buf, off, data, C.IPSET_ATTR_DATA | NEST_FLAGS);
        off = putAddr(buf, off + 4, C.IPSET_ATTR_IP, family, e.ip);
        attrHeader(buf, off, 6, C.IPSET_ATTR_PORT | NLA_F_NET_BYTEORDER);
        buf.writeUInt16BE(e.port, off + 4);
        buf.writeUInt16LE(0, off + 6);
        off = putU8(buf, off + 8, C.IPSET_ATTR_PROTO, e.proto);
        if (e.ip2 !== undefined) putAddr(buf, off, C.IPSET_ATTR_IP2, family, e.ip2);
      },
    },
    describe: () => `ipset ${op} ${set} ${formatEntry(e)}`,
  };
}

/** The same request through AttrWriter: the reference the direct encoder is tested against. */
export function elementRequestGeneric(
  op: 'add' | 'del',
  set: string,
  family: IpsetFamily,
  e: IpsetEntry,
): Request {
  const name = checkSetName(set);
  return ipsetRequest(
    op === 'add' ? C.IPSET_CMD_ADD : C.IPSET_CMD_DEL,
    (w) => {
      w.str(C.IPSET_ATTR_SETNAME, name);
      const data = w.begin(C.IPSET_ATTR_DATA, NLA_F_NESTED);
      writeAddr(w, C.IPSET_ATTR_IP, family, e.ip);
      w.be16(C.IPSET_ATTR_PORT, e.port, NLA_F_NET_BYTEORDER);
      w.u8(C.IPSET_ATTR_PROTO, e.proto);
      if (e.ip2 !== undefined) writeAddr(w, C.IPSET_ATTR_IP2, family, e.ip2);
      w.end(data);
    },
    () => `ipset ${op} ${name} ${formatEntry(e)}`,
  );
}

/** A LIST dump of one set, or of all (name undefined); flags IPSET_FLAG_LIST_*. */
export function listRequest(name: string | undefined, flags = 0): Request {
  if (name !== undefined) checkSetName(name);
  return ipsetRequest(
    C.IPSET_CMD_LIST,
    (w) => {
      if (name !== undefined) w.str(C.IPSET_ATTR_SETNAME, name);
      if (flags !== 0) w.be32(C.IPSET_ATTR_FLAGS, flags, NLA_F_NET_BYTEORDER);
    },
    () => `IPSET_CMD_LIST ${name ?? '(all)'}`,
  );
}

/** FLUSH or DESTROY of one set. */
export function setRequest(
  cmd: typeof C.IPSET_CMD_FLUSH | typeof C.IPSET_CMD_DESTROY,
  name: string,
): Request {
  checkSetName(name);
  return ipsetRequest(
    cmd,
    (w) => w.str(C.IPSET_ATTR_SETNAME, name),
    () => `ipset ${cmd === C.IPSET_CMD_FLUSH ? 'flush' : 'destroy'} ${name}`,
  );
}

/** What one LIST reply message says; a set's members may span several messages. */
export interface ListPart {
  name: string;
  type?: string;
  revision?: number;
  family?: IpsetFamily;
  /** Header (first message of a set): element count, references, maxelem. */
  elements?: number;
  references?: number;
  maxelem?: number;
  members: string[];
}

function nfFamily(n: number | undefined): IpsetFamily | undefined {
  return n === C.NFPROTO_IPV4 ? 'inet' : n === C.NFPROTO_IPV6 ? 'inet6' : undefined;
}

function readAddr(m: AttrMap | undefined): string | undefined {
  if (!m) return undefined;
  const v4 = m.get(C.IPSET_ATTR_IPADDR_IPV4);
  if (v4 && v4.length >= 4) return formatInet4(v4);
  const v6 = m.get(C.IPSET_ATTR_IPADDR_IPV6);
  if (v6 && v6.length >= 16) return formatInet6(v6);
  return undefined;
}

function ipsetAttrs(m: NetlinkMessage): AttrMap {
  if (m.payload.length < C.NFGENMSG_LEN)
    throw new NetlinkDecodeError(`ipset message of ${m.payload.length} bytes has no nfgenmsg`);
  return AttrMap.parse(m.payload, C.NFGENMSG_LEN);
}

export function decodeListPart(m: NetlinkMessage): ListPart {
  const a = ipsetAttrs(m);
  const name = a.str(C.IPSET_ATTR_SETNAME);
  if (name === undefined) throw new NetlinkDecodeError('ipset LIST reply without a set name');
  const part: ListPart = { name, members: [] };
  const type = a.str(C.IPSET_ATTR_TYPENAME);
  if (type !== undefined) part.type = type;
  const revision = a.u8(C.IPSET_ATTR_REVISION);
  if (revision !== undefined) part.revision = revision;
  const family = nfFamily(a.u8(C.IPSET_ATTR_FAMILY));
  if (family !== undefined) part.family = family;
  const header = a.nested(C.IPSET_ATTR_DATA);
  if (header) {
    const elements = header.be32(C.IPSET_ATTR_ELEMENTS);
    if (elements !== undefined) part.elements = elements;
    const references = header.be32(C.IPSET_ATTR_REFERENCES);
    if (references !== undefined) part.references = references;
    const maxelem = header.be32(C.IPSET_ATTR_MAXELEM);
    if (maxelem !== undefined) part.maxelem = maxelem;
  }
  const adt = a.get(C.IPSET_ATTR_ADT);
  if (adt) {
    for (const d of decodeAttrs(adt)) {
      if (d.type !== C.IPSET_ATTR_DATA) continue;
      const e = AttrMap.parse(d.data);
      const ip = readAddr(e.nested(C.IPSET_ATTR_IP));
      const port = e.be16(C.IPSET_ATTR_PORT);
      const proto = e.u8(C.IPSET_ATTR_PROTO);
      if (ip === undefined || port === undefined || proto === undefined)
        throw new NetlinkDecodeError(`ipset ${name}: an element without ip, port or protocol`);
      const ip2 = readAddr(e.nested(C.IPSET_ATTR_IP2));
      part.members.push(
        formatEntry(ip2 === undefined ? { ip, proto, port } : { ip, proto, port, ip2 }),
      );
    }
  }
  return part;
}

/** The revision range of a set type (IPSET_CMD_TYPE reply). */
export function decodeTypeReply(m: NetlinkMessage): { min: number; max: number } {
  const a = ipsetAttrs(m);
  const max = a.u8(C.IPSET_ATTR_REVISION);
  if (max === undefined) throw new NetlinkDecodeError('ipset TYPE reply without a revision');
  return { min: a.u8(C.IPSET_ATTR_REVISION_MIN) ?? 0, max };
}

/** Text for ipset's own error codes (errno ≥ 4096), undefined for a plain errno. */
export function ipsetErrorText(errno: number): string | undefined {
  return C.IPSET_ERRORS.get(errno);
}

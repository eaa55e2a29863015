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
import { type AttrWriter, type PayloadWriter, attrPayload, encodeWith } from '../netlink/writer.js';
import { formatInet4, formatInet6, writeInet4, writeInet6 } from '../inet/index.js';
import * as C from './constants.js';
import { checkSetName, type IpsetFamily, type IpsetSpec } from './spec.js';

/** One element of a hash:ip,port or hash:ip,port,ip set, in text. */
export interface IpsetEntry {
  ip: string;
  /** IP protocol number (6 tcp, 17 udp, 132 sctp). */
  proto: number;
  port: number;
  /** The second address of hash:ip,port,ip. */
  ip2?: string;
}

/**
 * One element as the kernel takes it: addresses as bytes in network order, the first 4
 * (inet) or all 16 (inet6) of each buffer. It is filled in place (readEntry, or a caller
 * that holds its elements in another form), so that a cold sync of 100 000+ elements
 * makes no object or text per element.
 */
export interface IpsetElement {
  family: IpsetFamily;
  readonly ip: Uint8Array;
  /** IP protocol number (6 tcp, 17 udp, 132 sctp). */
  proto: number;
  port: number;
  /** Whether ip2 holds a second address (hash:ip,port,ip). */
  hasIp2: boolean;
  readonly ip2: Uint8Array;
}

const PROTO_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['tcp', 6],
  ['udp', 17],
  ['sctp', 132],
]);
const PROTO_NAMES: ReadonlyMap<number, string> = new Map(
  [...PROTO_NUMBERS].map(([n, v]) => [v, n]),
);

/** The protocol number of a name in entry text ("tcp": 6); undefined for others. */
export function protoNumber(name: string): number | undefined {
  return PROTO_NUMBERS.get(name);
}

const WRITE_ADDR = { inet: writeInet4, inet6: writeInet6 } as const;
const FORMAT_ADDR = { inet: formatInet4, inet6: formatInet6 } as const;
const ADDR_LEN = { inet: 4, inet6: 16 } as const;
const ADDR_ATTR = { inet: C.IPSET_ATTR_IPADDR_IPV4, inet6: C.IPSET_ATTR_IPADDR_IPV6 } as const;
const NFPROTO = { inet: C.NFPROTO_IPV4, inet6: C.NFPROTO_IPV6 } as const;

/** An element with room for either family's addresses. */
export function newElement(): IpsetElement {
  return {
    family: 'inet',
    ip: new Uint8Array(16),
    proto: 0,
    port: 0,
    hasIp2: false,
    ip2: new Uint8Array(16),
  };
}

/** The family of an entry's text: IPv6 addresses hold colons, IPv4 ones do not. */
export function entryFamily(text: string): IpsetFamily {
  const comma = text.indexOf(',');
  return text.slice(0, comma < 0 ? text.length : comma).includes(':') ? 'inet6' : 'inet';
}

/**
 * Reads "ip,proto:port[,ip]" into `e`; RangeError when it is not that, or not of `family`
 * (`e` may then hold part of it).
 */
export function readEntry(text: string, family: IpsetFamily, e: IpsetElement): void {
  const parts = text.split(',');
  const [ip, pp, ip2] = parts;
  const colon = pp?.lastIndexOf(':') ?? -1;
  const proto = pp === undefined ? undefined : PROTO_NUMBERS.get(pp.slice(0, colon));
  const port = pp === undefined ? NaN : Number(pp.slice(colon + 1));
  const write = WRITE_ADDR[family];
  if (
    parts.length > 3 ||
    ip === undefined ||
    !write(ip, e.ip, 0) ||
    proto === undefined ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 0xffff ||
    (ip2 !== undefined && !write(ip2, e.ip2, 0))
  )
    throw new RangeError(`not an ip,proto:port[,ip] entry of family ${family}: ${text}`);
  e.family = family;
  e.proto = proto;
  e.port = port;
  e.hasIp2 = ip2 !== undefined;
}

/** An element in text form (addresses in their canonical text). */
export function elementEntry(e: IpsetElement): IpsetEntry {
  const format = FORMAT_ADDR[e.family];
  const ip = format(e.ip);
  const { proto, port } = e;
  return e.hasIp2 ? { ip, proto, port, ip2: format(e.ip2) } : { ip, proto, port };
}

const parsed = newElement();

/** Parses "ip,proto:port[,ip]"; RangeError when it is not that, or not of `family`. */
export function parseEntry(text: string, family: IpsetFamily = entryFamily(text)): IpsetEntry {
  readEntry(text, family, parsed);
  return elementEntry(parsed);
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
function putAddr(
  buf: Buffer,
  off: number,
  type: number,
  family: IpsetFamily,
  ip: Uint8Array,
): number {
  const n = ADDR_LEN[family];
  attrHeader(buf, off, 8 + n, type | NEST_FLAGS);
  attrHeader(buf, off + 4, 4 + n, ADDR_ATTR[family] | NLA_F_NET_BYTEORDER);
  for (let i = 0; i < n; i++) buf[off + 8 + i] = ip[i] as number;
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
 * deleting one that is not succeed (`ipset -exist`). The element is filled in place and
 * the object can be filled again once the request's answer is in: the client keeps one
 * per message of a datagram rather than making one per element. The layout is fixed,
 * so the bytes are written directly rather than through AttrWriter's counting pass; the
 * unit tests compare them with AttrWriter's (elementRequestGeneric).
 */
export class ElementRequest implements Request, PayloadWriter, IpsetElement {
  type = (C.NFNL_SUBSYS_IPSET << 8) | C.IPSET_CMD_ADD;
  readonly flags = 0;
  readonly payload: PayloadWriter = this;
  family: IpsetFamily = 'inet';
  readonly ip = new Uint8Array(16);
  proto = 0;
  port = 0;
  hasIp2 = false;
  readonly ip2 = new Uint8Array(16);
  private op: 'add' | 'del' = 'add';
  private name = nameAttr('-');
  private set = '-';
  /** Called only for an element that failed, while the request is still this element's. */
  readonly describe = (): string =>
    `ipset ${this.op} ${this.set} ${formatEntry(elementEntry(this))}`;

  /** The operation and set of the element; RangeError for a name ipset refuses. */
  target(op: 'add' | 'del', set: string): void {
    this.name = nameAttr(set);
    this.set = set;
    this.op = op;
    this.type = (C.NFNL_SUBSYS_IPSET << 8) | (op === 'add' ? C.IPSET_CMD_ADD : C.IPSET_CMD_DEL);
  }

  /** IPSET_ATTR_DATA's length: IP, PORT, PROTO and maybe IP2. */
  private dataLength(): number {
    const addr = 8 + ADDR_LEN[this.family];
    return 4 + addr + 8 + 8 + (this.hasIp2 ? addr : 0);
  }

  get length(): number {
    return C.NFGENMSG_LEN + 8 + this.name.length + this.dataLength();
  }

  write(buf: Buffer, at: number): void {
    const data = this.dataLength();
    buf.writeUInt32LE(0, at);
    buf[at] = C.AF_INET; // nfgenmsg: family, NFNETLINK_V0, res_id 0
    let off = putU8(buf, at + C.NFGENMSG_LEN, C.IPSET_ATTR_PROTOCOL, C.IPSET_PROTOCOL);
    this.name.copy(buf, off);
    off += this.name.length;
    attrHeader(buf, off, data, C.IPSET_ATTR_DATA | NEST_FLAGS);
    off = putAddr(buf, off + 4, C.IPSET_ATTR_IP, this.family, this.ip);
    attrHeader(buf, off, 6, C.IPSET_ATTR_PORT | NLA_F_NET_BYTEORDER);
    buf.writeUInt16BE(this.port, off + 4);
    buf.writeUInt16LE(0, off + 6);
    off = putU8(buf, off + 8, C.IPSET_ATTR_PROTO, this.proto);
    if (this.hasIp2) putAddr(buf, off, C.IPSET_ATTR_IP2, this.family, this.ip2);
  }
}

/** Adds or deletes one element given in text form (its addresses of `family`). */
export function elementRequest(
  op: 'add' | 'del',
  set: string,
  family: IpsetFamily,
  e: IpsetEntry,
): ElementRequest {
  const r = new ElementRequest();
  r.target(op, set);
  readEntry(formatEntry(e), family, r);
  return r;
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

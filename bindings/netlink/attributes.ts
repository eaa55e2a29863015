// Netlink attributes (struct nlattr): a 4-byte header {len u16, type u16}, the payload,
// padding to 4. Integers are host order (little-endian on every platform we run on)
// unless a protocol says big-endian. Decoding checks every length it reads.
import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, align4 } from './constants.js';
import { NetlinkDecodeError } from './errors.js';

/**
 * One attribute to encode. Values stay unencoded until written straight into the
 * message buffer: a batch encodes 100k+ attributes and a Buffer per attribute costs
 * more (allocation, GC) than the encoding itself, markedly so under UML.
 */
export type AttrOut =
  | { type: number; kind: 'u8' | 'u16' | 'be16' | 'u32' | 'be32'; value: number }
  | { type: number; kind: 'u64'; value: bigint }
  | { type: number; kind: 'str'; value: string }
  | { type: number; kind: 'bytes'; value: Buffer }
  /** An address written by `write` into exactly `length` bytes. */
  | { type: number; kind: 'raw'; length: number; write: (buf: Buffer, off: number) => void }
  | { type: number; kind: 'nested'; value: AttrOut[]; nestedFlag?: boolean };

export function u8(type: number, v: number): AttrOut {
  return { type, kind: 'u8', value: v };
}
export function u16(type: number, v: number): AttrOut {
  return { type, kind: 'u16', value: v };
}
export function be16(type: number, v: number): AttrOut {
  return { type, kind: 'be16', value: v };
}
export function u32(type: number, v: number): AttrOut {
  return { type, kind: 'u32', value: v };
}
export function be32(type: number, v: number): AttrOut {
  return { type, kind: 'be32', value: v };
}
export function u64(type: number, v: bigint): AttrOut {
  return { type, kind: 'u64', value: v };
}
/** A NUL-terminated string. */
export function str(type: number, v: string): AttrOut {
  return { type, kind: 'str', value: v };
}
export function bytes(type: number, v: Buffer): AttrOut {
  return { type, kind: 'bytes', value: v };
}
export function raw(
  type: number,
  length: number,
  write: (buf: Buffer, off: number) => void,
): AttrOut {
  return { type, kind: 'raw', length, write };
}
/** Nested attributes; NLA_F_NESTED only when asked (IPVS does not set it, by tradition). */
export function nested(type: number, children: AttrOut[], nestedFlag = false): AttrOut {
  return { type, kind: 'nested', value: children, nestedFlag };
}

function payloadLength(a: AttrOut): number {
  switch (a.kind) {
    case 'u8':
      return 1;
    case 'u16':
    case 'be16':
      return 2;
    case 'u32':
    case 'be32':
      return 4;
    case 'u64':
      return 8;
    case 'str':
      return Buffer.byteLength(a.value, 'utf8') + 1;
    case 'bytes':
      return a.value.length;
    case 'raw':
      return a.length;
    case 'nested':
      return attrsLength(a.value);
  }
}

export function attrsLength(attrs: readonly AttrOut[]): number {
  let n = 0;
  for (const a of attrs) n += align4(NLA_HDRLEN + payloadLength(a));
  return n;
}

/** Writes attrs at `offset`, padding zeroed; returns the offset after them. */
export function writeAttrs(buf: Buffer, offset: number, attrs: readonly AttrOut[]): number {
  let off = offset;
  for (const a of attrs) {
    const len = NLA_HDRLEN + payloadLength(a);
    if (len > 0xffff) throw new RangeError(`netlink attribute ${a.type} too long (${len})`);
    const flag = a.kind === 'nested' && a.nestedFlag ? NLA_F_NESTED : 0;
    buf.writeUInt16LE(len, off);
    buf.writeUInt16LE((a.type & NLA_TYPE_MASK) | flag, off + 2);
    const p = off + NLA_HDRLEN;
    switch (a.kind) {
      case 'u8':
        buf.writeUInt8(a.value, p);
        break;
      case 'u16':
        buf.writeUInt16LE(a.value, p);
        break;
      case 'be16':
        buf.writeUInt16BE(a.value, p);
        break;
      case 'u32':
        buf.writeUInt32LE(a.value >>> 0, p);
        break;
      case 'be32':
        buf.writeUInt32BE(a.value >>> 0, p);
        break;
      case 'u64':
        buf.writeBigUInt64LE(a.value, p);
        break;
      case 'str': {
        const n = buf.write(a.value, p, 'utf8');
        buf[p + n] = 0;
        break;
      }
      case 'bytes':
        a.value.copy(buf, p);
        break;
      case 'raw':
        a.write(buf, p);
        break;
      case 'nested':
        writeAttrs(buf, p, a.value);
        break;
    }
    const end = off + len;
    const padded = align4(end);
    buf.fill(0, end, padded);
    off = padded;
  }
  return off;
}

export function encodeAttrs(attrs: readonly AttrOut[]): Buffer {
  const buf = Buffer.alloc(attrsLength(attrs));
  writeAttrs(buf, 0, attrs);
  return buf;
}

/** A decoded attribute; `data` is a view into the received buffer. */
export interface AttrIn {
  type: number;
  nested: boolean;
  data: Buffer;
}

/** Splits a run of attributes; a header or length that does not fit raises NetlinkDecodeError. */
export function decodeAttrs(buf: Buffer, start = 0, end = buf.length): AttrIn[] {
  const out: AttrIn[] = [];
  for (let off = start, len; off < end && (len = attrLength(buf, off, end)) > 0;) {
    const rawType = buf.readUInt16LE(off + 2);
    out.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      data: buf.subarray(off + NLA_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/**
 * The length of the attribute at off, checked against end; 0 at trailing padding shorter
 * than a header, which is tolerated only if it is zero.
 */
function attrLength(buf: Buffer, off: number, end: number): number {
  if (end - off < NLA_HDRLEN) {
    for (let i = off; i < end; i++) {
      if (buf[i] !== 0) throw new NetlinkDecodeError(`attribute header truncated at ${off}`);
    }
    return 0;
  }
  const len = buf.readUInt16LE(off);
  if (len < NLA_HDRLEN || off + len > end) {
    throw new NetlinkDecodeError(`attribute length ${len} at ${off} exceeds ${end - off}`);
  }
  return len;
}

/** Attributes by type; the last one of a type wins (as the kernel's nla_parse). */
export class AttrMap {
  // Payload offset and length by attribute type, into one shared buffer: a dump of
  // 100k destinations decodes millions of attributes, and a Buffer view per attribute
  // would dominate the cost (garbage collection under UML).
  private readonly offs: number[] = [];
  private readonly lens: number[] = [];

  private constructor(private readonly buf: Buffer) {}

  static parse(buf: Buffer, start = 0, end = buf.length): AttrMap {
    const m = new AttrMap(buf);
    for (let off = start, len; off < end && (len = attrLength(buf, off, end)) > 0;) {
      // The last attribute of a type wins, as in the kernel's nla_parse.
      const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
      m.offs[type] = off + NLA_HDRLEN;
      m.lens[type] = len - NLA_HDRLEN;
      off += align4(len);
    }
    return m;
  }

  /**
   * The attributes nested in the last attribute of `type`, without a map of the run around
   * it (checked all the same): a dump builds one per message, 100 000 for the real servers.
   */
  static parseNested(buf: Buffer, type: number, start = 0, end = buf.length): AttrMap | undefined {
    let at = -1;
    let size = 0;
    for (let off = start, len; off < end && (len = attrLength(buf, off, end)) > 0;) {
      if ((buf.readUInt16LE(off + 2) & NLA_TYPE_MASK) === type) {
        at = off + NLA_HDRLEN;
        size = len - NLA_HDRLEN;
      }
      off += align4(len);
    }
    return at < 0 ? undefined : AttrMap.parse(buf, at, at + size);
  }

  has(type: number): boolean {
    return this.offs[type] !== undefined;
  }

  get(type: number): Buffer | undefined {
    const o = this.offs[type];
    return o === undefined ? undefined : this.buf.subarray(o, o + (this.lens[type] ?? 0));
  }

  /** Offset of a payload of at least `size` bytes, undefined if absent. */
  private at(type: number, size: number, what: string): number | undefined {
    const o = this.offs[type];
    if (o === undefined) return undefined;
    const len = this.lens[type] ?? 0;
    if (len < size) {
      throw new NetlinkDecodeError(`attribute ${type} (${what}) has ${len} bytes, want ${size}`);
    }
    return o;
  }

  u8(type: number): number | undefined {
    const o = this.at(type, 1, 'u8');
    return o === undefined ? undefined : this.buf.readUInt8(o);
  }
  u16(type: number): number | undefined {
    const o = this.at(type, 2, 'u16');
    return o === undefined ? undefined : this.buf.readUInt16LE(o);
  }
  be16(type: number): number | undefined {
    const o = this.at(type, 2, 'be16');
    return o === undefined ? undefined : this.buf.readUInt16BE(o);
  }
  u32(type: number): number | undefined {
    const o = this.at(type, 4, 'u32');
    return o === undefined ? undefined : this.buf.readUInt32LE(o);
  }
  be32(type: number): number | undefined {
    const o = this.at(type, 4, 'be32');
    return o === undefined ? undefined : this.buf.readUInt32BE(o);
  }
  u64(type: number): bigint | undefined {
    const o = this.at(type, 8, 'u64');
    if (o === undefined) return undefined;
    // Most counters fit 32 bits (rates, often packets and connections): one BigInt
    // instead of readBigUInt64LE's four, over a dump's million counters.
    if (this.buf.readUInt32LE(o + 4) === 0) {
      const lo = this.buf.readUInt32LE(o);
      return lo === 0 ? 0n : BigInt(lo);
    }
    return this.buf.readBigUInt64LE(o);
  }
  /** A string up to its first NUL (or the payload end). */
  str(type: number): string | undefined {
    const o = this.offs[type];
    if (o === undefined) return undefined;
    const end = o + (this.lens[type] ?? 0);
    let nul = o;
    while (nul < end && this.buf[nul] !== 0) nul++;
    return this.buf.toString('utf8', o, nul);
  }
  nested(type: number): AttrMap | undefined {
    const o = this.offs[type];
    return o === undefined ? undefined : AttrMap.parse(this.buf, o, o + (this.lens[type] ?? 0));
  }
}

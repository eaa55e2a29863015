// IP addresses as IPVS carries them (network-order bytes) and as people read them:
// IPv4 dotted quad, IPv6 in the compressed form glibc's inet_ntop prints.
import { isIPv4, isIPv6 } from 'node:net';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { AF_INET, AF_INET6, type AddressFamily } from './types.js';

export function parseIPv4(text: string): Buffer {
  if (!isIPv4(text)) throw new TypeError(`not an IPv4 address: ${text}`);
  return Buffer.from(text.split('.').map((p) => Number(p)));
}

export function parseIPv6(text: string): Buffer {
  if (!isIPv6(text) || text.includes('%')) throw new TypeError(`not an IPv6 address: ${text}`);
  let s = text;
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    // Rewrite a trailing dotted quad as two hex words, then parse one syntax.
    const v4 = parseIPv4(last);
    const hi = v4.readUInt16BE(0).toString(16);
    const lo = v4.readUInt16BE(2).toString(16);
    s = `${s.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const words: number[] = [];
  const halves = s.split('::');
  const parse = (h: string): number[] => (h === '' ? [] : h.split(':').map((w) => parseInt(w, 16)));
  const head = parse(halves[0] ?? '');
  const rest = halves.length > 1 ? parse(halves[1] ?? '') : [];
  const fill = 8 - head.length - rest.length;
  words.push(...head);
  if (halves.length > 1) for (let i = 0; i < fill; i++) words.push(0);
  words.push(...rest);
  if (words.length !== 8) throw new TypeError(`not an IPv6 address: ${text}`);
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

/** Writes an IPv4 address into 4 bytes at `off` without intermediate allocations. */
export function writeIPv4(text: string, buf: Buffer, off: number): void {
  let part = 0;
  let digits = 0;
  let n = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part > 255 || n > 3) throw new TypeError(`not an IPv4 address: ${text}`);
      buf[off + n] = part;
      n++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // A leading zero makes inet_pton refuse the address; so do we.
      if (digits > 0 && part === 0) throw new TypeError(`not an IPv4 address: ${text}`);
      part = part * 10 + (c - 48);
      digits++;
    } else {
      throw new TypeError(`not an IPv4 address: ${text}`);
    }
  }
  if (n !== 4) throw new TypeError(`not an IPv4 address: ${text}`);
}

export function addressLength(family: AddressFamily): number {
  return family === AF_INET ? 4 : 16;
}

export function writeAddress(family: AddressFamily, text: string, buf: Buffer, off: number): void {
  if (family === AF_INET) writeIPv4(text, buf, off);
  else parseIPv6(text).copy(buf, off);
}

export function parseAddress(family: AddressFamily, text: string): Buffer {
  return family === AF_INET ? parseIPv4(text) : parseIPv6(text);
}

export function formatIPv4(b: Buffer, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** glibc inet_ntop6: the longest run (first on a tie) of ≥2 zero words becomes '::'. */
export function formatIPv6(b: Buffer, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(b.readUInt16BE(off + i * 2));
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) print the last 32 bits dotted.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += formatIPv4(b, off + 12);
      break;
    }
    out += b.readUInt16BE(off + i * 2).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** Reads an address of `family` from the start of `b` (IPVS dumps pad IPv4 to 16 bytes). */
export function formatAddress(family: AddressFamily, b: Buffer): string {
  if (family === AF_INET) {
    if (b.length < 4) throw new NetlinkDecodeError(`IPv4 address of ${b.length} bytes`);
    return formatIPv4(b);
  }
  if (family === AF_INET6) {
    if (b.length < 16) throw new NetlinkDecodeError(`IPv6 address of ${b.length} bytes`);
    return formatIPv6(b);
  }
  throw new NetlinkDecodeError(`unknown address family ${String(family)}`);
}

/** The canonical text of an address (what a dump would give back). */
export function canonicalAddress(family: AddressFamily, text: string): string {
  return formatAddress(family, parseAddress(family, text));
}

// Address text exactly as glibc's inet_ntop/inet_ntoa print it, plus the
// host-order 32-bit words ipvsadm's comparators subtract.

import { AF_INET6, type AddressFamily } from '../../../bindings/ipvs/types.js';
import { formatIPv6 } from '../../../bindings/ipvs/address.js';
import { at } from './at.js';

/** Sixteen bytes of an nf_inet_addr union; IPv4 occupies the first four, the rest are zero. */
export type InetBytes = Uint8Array;

function parseIpv4(text: string): number[] | null {
  // By hand rather than split and regex: listings parse every address they sort and print.
  const out: number[] = [];
  let v = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // '.' ends the last part
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      if (++digits > 3) return null;
    } else if (c === 46) {
      if (digits === 0 || v > 255 || out.length === 4) return null;
      out.push(v);
      v = 0;
      digits = 0;
    } else return null;
  }
  return out.length === 4 ? out : null;
}

function parseIpv6(text: string): number[] | null {
  let head = text;
  let v4tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > lastColon) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (!v4) return null;
    v4tail = [(at(v4, 0) << 8) | at(v4, 1), (at(v4, 2) << 8) | at(v4, 3)];
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const want = 8 - v4tail.length;
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const toGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = toGroups(at(halves, 0));
  if (!left) return null;
  let groups: number[];
  if (halves.length === 2) {
    const right = toGroups(at(halves, 1));
    if (!right) return null;
    const fill = want - left.length - right.length;
    if (fill < 1) return null;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    if (left.length !== want) return null;
    groups = left;
  }
  return [...groups, ...v4tail];
}

/** Parse textual IPv4 / IPv6 into the 16-byte union layout. Throws on garbage. */
export function inetBytes(family: AddressFamily, text: string): InetBytes {
  const out = new Uint8Array(16);
  if (family === AF_INET6) {
    const g = parseIpv6(text);
    if (!g) throw new Error(`bad IPv6 address ${JSON.stringify(text)}`);
    g.forEach((w, i) => {
      out[i * 2] = w >> 8;
      out[i * 2 + 1] = w & 0xff;
    });
  } else {
    const b = parseIpv4(text);
    if (!b) throw new Error(`bad IPv4 address ${JSON.stringify(text)}`);
    out.set(b, 0);
  }
  return out;
}

/** The four ntohl()ed 32-bit words of the union, as ipvs_cmp_* read them. */
export function inetWords(family: AddressFamily, text: string): [number, number, number, number] {
  if (family !== AF_INET6) {
    // IPv4 without the 16-byte array: sorting a large table parses every address.
    const v = parseIpv4(text);
    if (!v) throw new Error(`bad IPv4 address ${JSON.stringify(text)}`);
    return [((at(v, 0) << 24) | (at(v, 1) << 16) | (at(v, 2) << 8) | at(v, 3)) >>> 0, 0, 0, 0];
  }
  const b = inetBytes(family, text);
  const w = (i: number): number =>
    ((at(b, i) << 24) | (at(b, i + 1) << 16) | (at(b, i + 2) << 8) | at(b, i + 3)) >>> 0;
  return [w(0), w(4), w(8), w(12)];
}

/** glibc inet_ntop(AF_INET6): the bindings' formatter, which is the same algorithm. */
export function ntop6(bytes: InetBytes): string {
  return formatIPv6(Buffer.from(bytes.buffer, bytes.byteOffset, 16));
}

/** inet_ntop for either family, from the textual form the bindings carry. */
export function ntop(family: AddressFamily, text: string): string {
  if (family === AF_INET6) return ntop6(inetBytes(family, text));
  const v = parseIpv4(text);
  if (!v) throw new Error(`bad IPv4 address ${JSON.stringify(text)}`);
  return `${v[0]}.${v[1]}.${v[2]}.${v[3]}`;
}

/** inet_ntoa of an IPv4 netmask given as a host-order u32. */
export function dottedMask(mask: number): string {
  const m = mask >>> 0;
  return `${m >>> 24}.${(m >>> 16) & 0xff}.${(m >>> 8) & 0xff}.${m & 0xff}`;
}

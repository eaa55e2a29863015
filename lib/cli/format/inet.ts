// Address text exactly as glibc's inet_ntop/inet_ntoa print it (the project's one codec,
// bindings/inet), plus the host-order 32-bit words ipvsadm's comparators subtract.

import { AF_INET6, type AddressFamily } from '../../../bindings/ipvs/types.js';
import { formatInet4, formatInet6, writeInet4, writeInet6 } from '../../../bindings/inet/index.js';
import { at } from './at.js';

/** Sixteen bytes of an nf_inet_addr union; IPv4 occupies the first four, the rest are zero. */
export type InetBytes = Uint8Array;

/** Parse textual IPv4 / IPv6 into the 16-byte union layout. Throws on garbage. */
export function inetBytes(family: AddressFamily, text: string): InetBytes {
  const out = new Uint8Array(16);
  if (family === AF_INET6) {
    if (!writeInet6(text, out)) throw new Error(`bad IPv6 address ${JSON.stringify(text)}`);
  } else if (!writeInet4(text, out)) throw new Error(`bad IPv4 address ${JSON.stringify(text)}`);
  return out;
}

// Sorting a large table parses every address: one scratch union instead of one per call.
const scratch = new Uint8Array(16);

/** The four ntohl()ed 32-bit words of the union, as ipvs_cmp_* read them. */
export function inetWords(family: AddressFamily, text: string): [number, number, number, number] {
  const b = scratch;
  b.fill(0);
  const ok = family === AF_INET6 ? writeInet6(text, b) : writeInet4(text, b);
  if (!ok)
    throw new Error(`bad ${family === AF_INET6 ? 'IPv6' : 'IPv4'} address ${JSON.stringify(text)}`);
  const w = (i: number): number =>
    ((at(b, i) << 24) | (at(b, i + 1) << 16) | (at(b, i + 2) << 8) | at(b, i + 3)) >>> 0;
  return [w(0), w(4), w(8), w(12)];
}

/** glibc inet_ntop(AF_INET6). */
export function ntop6(bytes: InetBytes): string {
  return formatInet6(bytes);
}

/** inet_ntop for either family, from the textual form the bindings carry. */
export function ntop(family: AddressFamily, text: string): string {
  if (family === AF_INET6) return ntop6(inetBytes(family, text));
  return formatInet4(inetBytes(family, text));
}

/** inet_ntoa of an IPv4 netmask given as a host-order u32. */
export function dottedMask(mask: number): string {
  const m = mask >>> 0;
  return `${m >>> 24}.${(m >>> 16) & 0xff}.${(m >>> 8) & 0xff}.${m & 0xff}`;
}

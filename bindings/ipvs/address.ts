// IP addresses as IPVS carries them (network-order bytes): the Buffer-and-family face of
// the one text codec in ../inet (glibc inet_pton/inet_ntop), with the errors IPVS code
// expects (TypeError for bad text, NetlinkDecodeError for a bad attribute).
import { formatInet4, formatInet6, writeInet4, writeInet6 } from '../inet/index.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { AF_INET, AF_INET6, type AddressFamily } from './types.js';

export function parseIPv4(text: string): Buffer {
  const b = Buffer.alloc(4);
  if (!writeInet4(text, b)) throw new TypeError(`not an IPv4 address: ${text}`);
  return b;
}

export function parseIPv6(text: string): Buffer {
  const b = Buffer.alloc(16);
  if (!writeInet6(text, b)) throw new TypeError(`not an IPv6 address: ${text}`);
  return b;
}

/** Writes an IPv4 address into 4 bytes at `off` without intermediate allocations. */
export function writeIPv4(text: string, buf: Buffer, off: number): void {
  if (!writeInet4(text, buf, off)) throw new TypeError(`not an IPv4 address: ${text}`);
}

/** Writes an IPv6 address into 16 bytes at `off`. */
export function writeIPv6(text: string, buf: Buffer, off: number): void {
  if (!writeInet6(text, buf, off)) throw new TypeError(`not an IPv6 address: ${text}`);
}

export function addressLength(family: AddressFamily): number {
  return family === AF_INET ? 4 : 16;
}

export function writeAddress(family: AddressFamily, text: string, buf: Buffer, off: number): void {
  if (family === AF_INET) writeIPv4(text, buf, off);
  else writeIPv6(text, buf, off);
}

export function parseAddress(family: AddressFamily, text: string): Buffer {
  return family === AF_INET ? parseIPv4(text) : parseIPv6(text);
}

export function formatIPv4(b: Buffer, off = 0): string {
  return formatInet4(b, off);
}

/** glibc inet_ntop6 (see ../inet/text.ts). */
export function formatIPv6(b: Buffer, off = 0): string {
  return formatInet6(b, off);
}

/** Reads an address of `family` from the start of `b` (IPVS dumps pad IPv4 to 16 bytes). */
export function formatAddress(family: AddressFamily, b: Buffer): string {
  if (family === AF_INET) {
    if (b.length < 4) throw new NetlinkDecodeError(`IPv4 address of ${b.length} bytes`);
    return formatInet4(b);
  }
  if (family === AF_INET6) {
    if (b.length < 16) throw new NetlinkDecodeError(`IPv6 address of ${b.length} bytes`);
    return formatInet6(b);
  }
  throw new NetlinkDecodeError(`unknown address family ${String(family)}`);
}

/** The canonical text of an address (what a dump would give back). */
export function canonicalAddress(family: AddressFamily, text: string): string {
  return formatAddress(family, parseAddress(family, text));
}

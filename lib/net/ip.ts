// Pure IP and CIDR handling for config and model. Text goes through the project's one
// codec (bindings/inet, glibc inet_pton/inet_ntop), so the same address written two ways
// ("FD00:0::1", "fd00::1") yields one virtual server key, and that key's text is the one a
// kernel dump gives back. This folder sits below both config and model: neither imports the
// other for addresses.
import { formatInet, parseInet, writeInet4 } from '../../bindings/inet/index.js';

export { hostPort } from '../../bindings/inet/index.js';
export type IpFamily = 'IPv4' | 'IPv6';

export interface Ip {
  readonly family: IpFamily;
  readonly bytes: Uint8Array;
  /** Canonical text: what glibc inet_ntop prints (dotted quad; RFC 5952 IPv6, see bindings/inet). */
  readonly text: string;
}

export interface Cidr {
  readonly family: IpFamily;
  /** Network address (host bits cleared). */
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** Canonical text of the masked network, e.g. "10.0.0.0/8". */
  readonly text: string;
}

/** An address from its text (inet_pton syntax of either family), or undefined. */
export function parseIp(s: unknown): Ip | undefined {
  if (typeof s !== 'string' || s.length === 0 || s.length > 64) return undefined;
  const bytes = parseInet(s);
  if (!bytes) return undefined;
  // inet_pton refuses every IPv4 text but the one inet_ntop prints (no leading zeros, four
  // octets): the input is already canonical, and sharing it spares a built string.
  if (bytes.length === 4) return { family: 'IPv4', bytes, text: s };
  return { family: 'IPv6', bytes, text: formatInet(bytes) };
}

const SCRATCH4 = new Uint8Array(4);

/**
 * parseIp(s)?.text without building an Ip: the store counts every endpoint address on
 * every slice event.
 */
export function canonicalIpText(s: unknown): string | undefined {
  // An IPv4 text inet_pton takes is its canonical text (parseIp); parseIp checks the rest.
  if (typeof s === 'string' && writeInet4(s, SCRATCH4)) return s;
  return parseIp(s)?.text;
}

export function parseCidr(s: unknown): Cidr | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const prefixText = s.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const bits = ip.bytes.length * 8;
  if (prefix > bits) return undefined;
  const bytes = maskBytes(ip.bytes, prefix);
  return { family: ip.family, bytes, prefix, text: `${formatInet(bytes)}/${prefix}` };
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = (bytes[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

export function cidrContains(cidr: Cidr, ip: Ip): boolean {
  if (cidr.family !== ip.family) return false;
  // Byte by byte, allocating nothing: every endpoint of every translated slice is classified.
  for (let i = 0; i < ip.bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, cidr.prefix - i * 8));
    if (keep === 0) return true;
    const mask = (0xff << (8 - keep)) & 0xff;
    if (((ip.bytes[i] as number) & mask) !== cidr.bytes[i]) return false;
  }
  return true;
}

/** IPv4 before IPv6, then numeric order. */
export function compareIps(a: Ip, b: Ip): number {
  if (a.bytes.length !== b.bytes.length) return a.bytes.length - b.bytes.length;
  for (let i = 0; i < a.bytes.length; i++) {
    const d = (a.bytes[i] as number) - (b.bytes[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

export type AddressClass =
  'unicast' | 'unspecified' | 'loopback' | 'link-local' | 'multicast' | 'broadcast' | 'ipv4-mapped';

const SPECIAL: readonly [string, Exclude<AddressClass, 'unicast'>][] = [
  ['0.0.0.0/8', 'unspecified'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::ffff:0:0/96', 'ipv4-mapped'],
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
];
const SPECIAL_CIDRS = SPECIAL.map(([c, k]) => [parseCidr(c) as Cidr, k] as const);

/** "a loopback address", "an IPv4-mapped address": the class in a sentence, article and all. */
export function describeClass(kind: Exclude<AddressClass, 'unicast'>): string {
  const words: Record<Exclude<AddressClass, 'unicast'>, string> = {
    unspecified: 'an unspecified',
    loopback: 'a loopback',
    'link-local': 'a link-local',
    multicast: 'a multicast',
    broadcast: 'a broadcast',
    'ipv4-mapped': 'an IPv4-mapped',
  };
  return `${words[kind]} address`;
}

export function classifyIp(ip: Ip): AddressClass {
  for (const [cidr, kind] of SPECIAL_CIDRS) if (cidrContains(cidr, ip)) return kind;
  return 'unicast';
}

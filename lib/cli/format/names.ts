// ipvsadm's addrport_to_anyname: numeric text with -n, otherwise host and service names
// looked up through an injected resolver so rendering stays pure.

import { AF_INET, type AddressFamily, type IpProtocol } from '../../../bindings/ipvs/types.js';
import { ntop } from './inet.js';
import { byteLen } from './printf.js';

/** Synchronous name lookups (answers gathered beforehand by the caller). */
export interface NameResolver {
  /** gethostbyaddr()'s h_name, or null when the address has no name. */
  host(family: AddressFamily, address: string): string | null;
  /** getservbyport()'s s_name for 'tcp' | 'udp' | 'sctp', or null. */
  service(port: number, protocol: 'tcp' | 'udp' | 'sctp'): string | null;
}

export const NO_NAMES: NameResolver = {
  host: () => null,
  service: () => null,
};

export interface NameOptions {
  numeric: boolean;
  resolver?: NameResolver;
}

function protoName(protocol: number): 'tcp' | 'udp' | 'sctp' | null {
  if (protocol === 6) return 'tcp';
  if (protocol === 17) return 'udp';
  if (protocol === 132) return 'sctp';
  return null;
}

/** C snprintf into a 60-byte buffer: at most 59 bytes survive. */
function cap(text: string, size: number): string {
  return cut(text, size - 1);
}

/** Truncate to n bytes, as writing NUL at buf[n] does. */
export function cut(text: string, n: number): string {
  if (byteLen(text) <= n) return text;
  return Buffer.from(text, 'utf8').subarray(0, n).toString('utf8');
}

export function addrPortName(
  family: AddressFamily,
  address: string,
  port: number,
  protocol: IpProtocol | number,
  opts: NameOptions,
): string {
  const open = family === AF_INET ? '' : '[';
  const close = family === AF_INET ? '' : ']';
  if (opts.numeric) return cap(`${open}${ntop(family, address)}${close}:${port}`, 60);
  const r = opts.resolver ?? NO_NAMES;
  const host = r.host(family, address) ?? ntop(family, address);
  const p = protoName(protocol);
  const svc = (p && r.service(port, p)) ?? String(port);
  return cap(`${open}${host}${close}:${svc}`, 60);
}

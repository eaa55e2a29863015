// The kernel's identity of a virtual server, in the model's key syntax, so desired state
// (from translate) and observed state (from a dump) meet on one key.
import type { IpvsDestinationId, IpvsServiceId } from '../../../bindings/ipvs/codec.js';
import { virtualServerKey, type Protocol, type VirtualServerKey } from '../../model/types.js';
import { hostPort } from '../../../bindings/inet/text.js';

const PROTOCOL_NAMES: Readonly<Record<number, Protocol>> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP' };

/** The model's protocol name for an IP protocol number; undefined for fwmark services. */
export function protocolOf(ipProtocol: number): Protocol | undefined {
  return PROTOCOL_NAMES[ipProtocol];
}

/** The key of a kernel service; undefined for a fwmark service (kube-ipvs makes none). */
export function ipvsServiceKey(s: IpvsServiceId): VirtualServerKey | undefined {
  const protocol = s.fwmark === 0 ? protocolOf(s.protocol) : undefined;
  return protocol && virtualServerKey(protocol, s.address, s.port);
}

/** "TCP/10.0.0.1:80>10.244.1.5:8080": a real server within its virtual server. */
export function realServerKey(vs: VirtualServerKey, d: IpvsDestinationId): string {
  return `${vs}>${hostPort(d.address, d.port)}`;
}

// Plain data for what the kernel's IPVS table holds, as the generic netlink API
// carries it (uapi linux/ip_vs.h). No Kubernetes here.

/** AF_INET or AF_INET6. */
export type AddressFamily = 2 | 10;
export const AF_INET = 2 as const;
export const AF_INET6 = 10 as const;

/** IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP; 0 for a fwmark service. */
export type IpProtocol = 0 | 6 | 17 | 132;

/** The ten IPVS_STATS_ATTR_* counters, from STATS64 (or widened from STATS). */
export interface IpvsStats {
  conns: bigint;
  inPackets: bigint;
  outPackets: bigint;
  inBytes: bigint;
  outBytes: bigint;
  cps: bigint;
  inPps: bigint;
  outPps: bigint;
  inBps: bigint;
  outBps: bigint;
}

/** Counters of an entry that has seen nothing (or whose source keeps no counters). */
export const ZERO_STATS: Readonly<IpvsStats> = Object.freeze({
  conns: 0n,
  inPackets: 0n,
  outPackets: 0n,
  inBytes: 0n,
  outBytes: 0n,
  cps: 0n,
  inPps: 0n,
  outPps: 0n,
  inBps: 0n,
  outBps: 0n,
});

/** A virtual service. Identified by family + (fwmark | protocol, address, port). */
export interface IpvsService {
  family: AddressFamily;
  protocol: IpProtocol;
  /** Textual address ('' for a fwmark service); IPv6 in canonical compressed form. */
  address: string;
  port: number;
  /** 0 unless a fwmark service. */
  fwmark: number;
  scheduler: string;
  /** IP_VS_SVC_F_* bits, with the kernel-set HASHED bit masked off. */
  flags: number;
  /** Persistence timeout in seconds (meaningful with IP_VS_SVC_F_PERSISTENT). */
  timeout: number;
  /** IPv4: the mask as a host-order u32 (0xffffffff = /32); IPv6: prefix length. */
  netmask: number;
  /** Persistence engine name ('' for none). */
  peName: string;
  stats?: IpvsStats;
}

/** A real server of a virtual service. Identified by address + port. */
export interface IpvsDestination {
  family: AddressFamily;
  address: string;
  port: number;
  /** IP_VS_CONN_F_MASQ 0, LOCALNODE 1, TUNNEL 2, DROUTE 3, BYPASS 4. */
  forward: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /** IPVS tunnel type (ipip 0, gue 1, gre 2), port and flags; 0 when not a tunnel. */
  tunType: number;
  tunPort: number;
  tunFlags: number;
  activeConns?: number;
  inactiveConns?: number;
  persistConns?: number;
  stats?: IpvsStats;
}

/** IPVS_CMD_ATTR_TIMEOUT_* in seconds. */
export interface IpvsTimeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

/** IPVS_CMD_GET_INFO. */
export interface IpvsInfo {
  /** e.g. 0x010201 for 1.2.1 */
  version: number;
  connTableSize: number;
}

/** A connection sync daemon (IPVS_CMD_GET_DAEMON). */
export interface IpvsDaemon {
  /** IP_VS_STATE_MASTER 1 or IP_VS_STATE_BACKUP 2. */
  state: number;
  mcastIfn: string;
  syncId: number;
  syncMaxLen?: number;
  mcastGroup?: string;
  mcastPort?: number;
  mcastTtl?: number;
}

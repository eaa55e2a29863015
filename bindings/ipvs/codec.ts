// IPVS attributes ⇄ plain objects. Encoding follows what the kernel requires (full
// entries for NEW/SET, identifying attributes for DEL/GET); decoding checks every
// attribute it reads and raises NetlinkDecodeError on anything malformed.
import type { AttrMap } from '../netlink/attributes.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { type FieldWriter, type AttrWriter } from '../netlink/writer.js';
import { hostPort } from '../inet/index.js';
import { formatAddress, writeIPv4, writeIPv6 } from './address.js';
import * as C from './constants.js';
import {
  AF_INET,
  AF_INET6,
  type AddressFamily,
  type IpProtocol,
  type IpvsDaemon,
  type IpvsDestination,
  type IpvsInfo,
  type IpvsService,
  type IpvsStats,
  type IpvsTimeouts,
} from './types.js';

/** What identifies a service: family + (fwmark | protocol, address, port). */
export type IpvsServiceId = Pick<
  IpvsService,
  'family' | 'protocol' | 'address' | 'port' | 'fwmark'
>;
/** What identifies a destination within its service. */
export type IpvsDestinationId = Pick<IpvsDestination, 'address' | 'port'> & {
  family?: AddressFamily;
};

const FLAGS_MASK_SENT = 0xffffffff;

function family(v: number | undefined, what: string): AddressFamily {
  if (v === AF_INET || v === AF_INET6) return v;
  throw new NetlinkDecodeError(`${what}: address family ${String(v)} is not AF_INET or AF_INET6`);
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new NetlinkDecodeError(`missing ${what}`);
  return v;
}

function protocol(v: number): IpProtocol {
  if (v === 0 || v === 6 || v === 17 || v === 132) return v;
  throw new NetlinkDecodeError(`unknown IPVS protocol ${v}`);
}

export function protocolName(p: number): string {
  return p === C.IPPROTO_TCP
    ? 'TCP'
    : p === C.IPPROTO_UDP
      ? 'UDP'
      : p === C.IPPROTO_SCTP
        ? 'SCTP'
        : `proto ${p}`;
}

/** 'TCP 10.0.0.1:80', 'UDP [fd00::1]:53', 'FWM 7 IPv6' — for error messages. */
export function describeService(s: IpvsServiceId): string {
  if (s.fwmark) return `FWM ${s.fwmark}${s.family === AF_INET6 ? ' IPv6' : ''}`;
  return `${protocolName(s.protocol)} ${hostPort(s.address, s.port)}`;
}

const writeV4: FieldWriter = (buf, off, text) => writeIPv4(text, buf, off);
const writeV6: FieldWriter = (buf, off, text) => writeIPv6(text, buf, off);

function writeAddr(w: AttrWriter, type: number, f: AddressFamily, text: string): void {
  if (f === AF_INET) w.field(type, 4, writeV4, text);
  else w.field(type, 16, writeV6, text);
}

function checkName(name: string, max: number, what: string): void {
  if (Buffer.byteLength(name) >= max) {
    throw new RangeError(`${what} '${name}' is longer than ${max - 1} bytes`);
  }
}

/** The identifying attributes of a service (inside IPVS_CMD_ATTR_SERVICE). */
export function writeServiceId(w: AttrWriter, s: IpvsServiceId): void {
  w.u16(C.IPVS_SVC_ATTR_AF, s.family);
  if (s.fwmark) {
    w.u32(C.IPVS_SVC_ATTR_FWMARK, s.fwmark);
  } else {
    w.u16(C.IPVS_SVC_ATTR_PROTOCOL, s.protocol);
    writeAddr(w, C.IPVS_SVC_ATTR_ADDR, s.family, s.address);
    w.be16(C.IPVS_SVC_ATTR_PORT, s.port);
  }
}

/** A full service entry for NEW/SET. HASHED is kernel-owned and never sent. */
export function writeService(w: AttrWriter, s: IpvsService): void {
  checkName(s.scheduler, C.IP_VS_SCHEDNAME_MAXLEN, 'scheduler');
  checkName(s.peName, C.IP_VS_PENAME_MAXLEN, 'persistence engine');
  writeServiceId(w, s);
  w.str(C.IPVS_SVC_ATTR_SCHED_NAME, s.scheduler);
  if (s.peName) w.str(C.IPVS_SVC_ATTR_PE_NAME, s.peName);
  // struct ip_vs_flags { u32 flags; u32 mask; }
  w.u32pair(C.IPVS_SVC_ATTR_FLAGS, s.flags & ~C.IP_VS_SVC_F_HASHED, FLAGS_MASK_SENT);
  w.u32(C.IPVS_SVC_ATTR_TIMEOUT, s.timeout);
  // The kernel keeps the IPv4 mask in network order and the IPv6 prefix length as is.
  if (s.family === AF_INET) w.be32(C.IPVS_SVC_ATTR_NETMASK, s.netmask);
  else w.u32(C.IPVS_SVC_ATTR_NETMASK, s.netmask);
}

/** IPVS_CMD_ATTR_SERVICE around the identifying or the full attributes. */
export function writeServiceNest(
  w: AttrWriter,
  s: IpvsServiceId | IpvsService,
  full: boolean,
): void {
  const at = w.begin(C.IPVS_CMD_ATTR_SERVICE);
  if (full) writeService(w, s as IpvsService);
  else writeServiceId(w, s);
  w.end(at);
}

/** A destination for NEW/SET. Tunnel attributes go only with the tunnel method. */
export function writeDestination(w: AttrWriter, d: IpvsDestination): void {
  const fwd = d.forward & C.IP_VS_CONN_F_FWD_MASK;
  w.u16(C.IPVS_DEST_ATTR_ADDR_FAMILY, d.family);
  writeAddr(w, C.IPVS_DEST_ATTR_ADDR, d.family, d.address);
  w.be16(C.IPVS_DEST_ATTR_PORT, d.port);
  w.u32(C.IPVS_DEST_ATTR_FWD_METHOD, fwd);
  w.u32(C.IPVS_DEST_ATTR_WEIGHT, d.weight);
  w.u32(C.IPVS_DEST_ATTR_U_THRESH, d.upperThreshold);
  w.u32(C.IPVS_DEST_ATTR_L_THRESH, d.lowerThreshold);
  if (fwd === C.IP_VS_CONN_F_TUNNEL) {
    w.u8(C.IPVS_DEST_ATTR_TUN_TYPE, d.tunType);
    w.be16(C.IPVS_DEST_ATTR_TUN_PORT, d.tunPort);
    w.u16(C.IPVS_DEST_ATTR_TUN_FLAGS, d.tunFlags);
  }
}

export function writeDestinationId(
  w: AttrWriter,
  d: IpvsDestinationId,
  serviceFamily: AddressFamily,
): void {
  const f = d.family ?? serviceFamily;
  w.u16(C.IPVS_DEST_ATTR_ADDR_FAMILY, f);
  writeAddr(w, C.IPVS_DEST_ATTR_ADDR, f, d.address);
  w.be16(C.IPVS_DEST_ATTR_PORT, d.port);
}

export function decodeStats(a: AttrMap, wide: boolean): IpvsStats {
  const n = (t: number, big: boolean): bigint => {
    const v = wide || big ? a.u64(t) : a.u32(t);
    return v === undefined ? 0n : BigInt(v);
  };
  return {
    conns: n(C.IPVS_STATS_ATTR_CONNS, false),
    inPackets: n(C.IPVS_STATS_ATTR_INPKTS, false),
    outPackets: n(C.IPVS_STATS_ATTR_OUTPKTS, false),
    inBytes: n(C.IPVS_STATS_ATTR_INBYTES, true),
    outBytes: n(C.IPVS_STATS_ATTR_OUTBYTES, true),
    cps: n(C.IPVS_STATS_ATTR_CPS, false),
    inPps: n(C.IPVS_STATS_ATTR_INPPS, false),
    outPps: n(C.IPVS_STATS_ATTR_OUTPPS, false),
    inBps: n(C.IPVS_STATS_ATTR_INBPS, false),
    outBps: n(C.IPVS_STATS_ATTR_OUTBPS, false),
  };
}

function statsOf(a: AttrMap, s64: number, s32: number): IpvsStats | undefined {
  const wide = a.nested(s64);
  if (wide) return decodeStats(wide, true);
  const narrow = a.nested(s32);
  return narrow ? decodeStats(narrow, false) : undefined;
}

/** `withStats` false skips the counters (a resync compares configuration only). */
export function decodeService(a: AttrMap, withStats = true): IpvsService {
  const f = family(a.u16(C.IPVS_SVC_ATTR_AF), 'service');
  const fwmark = a.u32(C.IPVS_SVC_ATTR_FWMARK) ?? 0;
  const flagsBuf = need(a.get(C.IPVS_SVC_ATTR_FLAGS), 'IPVS_SVC_ATTR_FLAGS');
  if (flagsBuf.length < 4)
    throw new NetlinkDecodeError(`IPVS_SVC_ATTR_FLAGS of ${flagsBuf.length} bytes`);
  const netmask = f === AF_INET ? a.be32(C.IPVS_SVC_ATTR_NETMASK) : a.u32(C.IPVS_SVC_ATTR_NETMASK);
  const svc: IpvsService = {
    family: f,
    protocol: 0,
    address: '',
    port: 0,
    fwmark,
    scheduler: need(a.str(C.IPVS_SVC_ATTR_SCHED_NAME), 'IPVS_SVC_ATTR_SCHED_NAME'),
    flags: (flagsBuf.readUInt32LE(0) & ~C.IP_VS_SVC_F_HASHED) >>> 0,
    timeout: need(a.u32(C.IPVS_SVC_ATTR_TIMEOUT), 'IPVS_SVC_ATTR_TIMEOUT'),
    netmask: need(netmask, 'IPVS_SVC_ATTR_NETMASK'),
    peName: a.str(C.IPVS_SVC_ATTR_PE_NAME) ?? '',
  };
  if (!fwmark) {
    svc.protocol = protocol(need(a.u16(C.IPVS_SVC_ATTR_PROTOCOL), 'IPVS_SVC_ATTR_PROTOCOL'));
    svc.address = formatAddress(f, need(a.get(C.IPVS_SVC_ATTR_ADDR), 'IPVS_SVC_ATTR_ADDR'));
    svc.port = need(a.be16(C.IPVS_SVC_ATTR_PORT), 'IPVS_SVC_ATTR_PORT');
  }
  const stats = withStats ? statsOf(a, C.IPVS_SVC_ATTR_STATS64, C.IPVS_SVC_ATTR_STATS) : undefined;
  if (stats) svc.stats = stats;
  return svc;
}

export function decodeDestination(
  a: AttrMap,
  serviceFamily: AddressFamily,
  withStats = true,
): IpvsDestination {
  const f = family(a.u16(C.IPVS_DEST_ATTR_ADDR_FAMILY) ?? serviceFamily, 'destination');
  const forward = need(a.u32(C.IPVS_DEST_ATTR_FWD_METHOD), 'IPVS_DEST_ATTR_FWD_METHOD');
  const d: IpvsDestination = {
    family: f,
    address: formatAddress(f, need(a.get(C.IPVS_DEST_ATTR_ADDR), 'IPVS_DEST_ATTR_ADDR')),
    port: need(a.be16(C.IPVS_DEST_ATTR_PORT), 'IPVS_DEST_ATTR_PORT'),
    forward: forward & C.IP_VS_CONN_F_FWD_MASK,
    weight: need(a.u32(C.IPVS_DEST_ATTR_WEIGHT), 'IPVS_DEST_ATTR_WEIGHT'),
    upperThreshold: a.u32(C.IPVS_DEST_ATTR_U_THRESH) ?? 0,
    lowerThreshold: a.u32(C.IPVS_DEST_ATTR_L_THRESH) ?? 0,
    tunType: 0,
    tunPort: 0,
    tunFlags: 0,
  };
  // The kernel reports tunnel attributes for every destination; they mean something
  // only for the tunnel method, and round trips compare them only there.
  if (d.forward === C.IP_VS_CONN_F_TUNNEL) {
    d.tunType = a.u8(C.IPVS_DEST_ATTR_TUN_TYPE) ?? 0;
    d.tunPort = a.be16(C.IPVS_DEST_ATTR_TUN_PORT) ?? 0;
    d.tunFlags = a.u16(C.IPVS_DEST_ATTR_TUN_FLAGS) ?? 0;
  }
  const active = a.u32(C.IPVS_DEST_ATTR_ACTIVE_CONNS);
  const inactive = a.u32(C.IPVS_DEST_ATTR_INACT_CONNS);
  const persist = a.u32(C.IPVS_DEST_ATTR_PERSIST_CONNS);
  if (active !== undefined) d.activeConns = active;
  if (inactive !== undefined) d.inactiveConns = inactive;
  if (persist !== undefined) d.persistConns = persist;
  const stats = withStats
    ? statsOf(a, C.IPVS_DEST_ATTR_STATS64, C.IPVS_DEST_ATTR_STATS)
    : undefined;
  if (stats) d.stats = stats;
  return d;
}

export function writeTimeouts(w: AttrWriter, t: Partial<IpvsTimeouts>): void {
  // 0 (or absent) leaves a timeout unchanged.
  w.u32(C.IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp ?? 0);
  w.u32(C.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcpFin ?? 0);
  w.u32(C.IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp ?? 0);
}

export function decodeTimeouts(a: AttrMap): IpvsTimeouts {
  return {
    tcp: need(a.u32(C.IPVS_CMD_ATTR_TIMEOUT_TCP), 'IPVS_CMD_ATTR_TIMEOUT_TCP'),
    tcpFin: need(a.u32(C.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN), 'IPVS_CMD_ATTR_TIMEOUT_TCP_FIN'),
    udp: need(a.u32(C.IPVS_CMD_ATTR_TIMEOUT_UDP), 'IPVS_CMD_ATTR_TIMEOUT_UDP'),
  };
}

export function decodeInfo(a: AttrMap): IpvsInfo {
  return {
    version: need(a.u32(C.IPVS_INFO_ATTR_VERSION), 'IPVS_INFO_ATTR_VERSION'),
    connTableSize: need(a.u32(C.IPVS_INFO_ATTR_CONN_TAB_SIZE), 'IPVS_INFO_ATTR_CONN_TAB_SIZE'),
  };
}

export function decodeDaemon(a: AttrMap): IpvsDaemon {
  const d: IpvsDaemon = {
    state: need(a.u32(C.IPVS_DAEMON_ATTR_STATE), 'IPVS_DAEMON_ATTR_STATE'),
    mcastIfn: need(a.str(C.IPVS_DAEMON_ATTR_MCAST_IFN), 'IPVS_DAEMON_ATTR_MCAST_IFN'),
    syncId: need(a.u32(C.IPVS_DAEMON_ATTR_SYNC_ID), 'IPVS_DAEMON_ATTR_SYNC_ID'),
  };
  const maxlen = a.u16(C.IPVS_DAEMON_ATTR_SYNC_MAXLEN);
  if (maxlen !== undefined) d.syncMaxLen = maxlen;
  const g4 = a.get(C.IPVS_DAEMON_ATTR_MCAST_GROUP);
  const g6 = a.get(C.IPVS_DAEMON_ATTR_MCAST_GROUP6);
  if (g6 !== undefined) d.mcastGroup = formatAddress(AF_INET6, g6);
  else if (g4 !== undefined) d.mcastGroup = formatAddress(AF_INET, g4);
  const port = a.u16(C.IPVS_DAEMON_ATTR_MCAST_PORT);
  if (port !== undefined) d.mcastPort = port;
  const ttl = a.u8(C.IPVS_DAEMON_ATTR_MCAST_TTL);
  if (ttl !== undefined) d.mcastTtl = ttl;
  return d;
}

export function writeDaemon(w: AttrWriter, d: Partial<IpvsDaemon> & { state: number }): void {
  w.u32(C.IPVS_DAEMON_ATTR_STATE, d.state);
  if (d.mcastIfn !== undefined) {
    checkName(d.mcastIfn, C.IP_VS_IFNAME_MAXLEN, 'interface');
    w.str(C.IPVS_DAEMON_ATTR_MCAST_IFN, d.mcastIfn);
  }
  if (d.syncId !== undefined) w.u32(C.IPVS_DAEMON_ATTR_SYNC_ID, d.syncId);
  if (d.syncMaxLen !== undefined) w.u16(C.IPVS_DAEMON_ATTR_SYNC_MAXLEN, d.syncMaxLen);
  if (d.mcastGroup !== undefined) {
    if (d.mcastGroup.includes(':'))
      writeAddr(w, C.IPVS_DAEMON_ATTR_MCAST_GROUP6, AF_INET6, d.mcastGroup);
    else writeAddr(w, C.IPVS_DAEMON_ATTR_MCAST_GROUP, AF_INET, d.mcastGroup);
  }
  if (d.mcastPort !== undefined) w.u16(C.IPVS_DAEMON_ATTR_MCAST_PORT, d.mcastPort);
  if (d.mcastTtl !== undefined) w.u8(C.IPVS_DAEMON_ATTR_MCAST_TTL, d.mcastTtl);
}

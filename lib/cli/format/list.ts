// `ipvsadm -L` renderings: list_all, list_service, print_title, print_service_entry.

import {
  AF_INET,
  AF_INET6,
  type IpvsDestination,
  type IpvsInfo,
  type IpvsService,
  ZERO_STATS,
} from '../../../bindings/ipvs/types.js';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED_ANY, schedFlagsText } from './flags.js';
import { dottedMask } from './inet.js';
import { addrPortName, cut, type NameResolver } from './names.js';
import { i32, largenum, left, low32, right, u32 } from './printf.js';
import type { Snapshot, SnapshotEntry } from './snapshot.js';
import { sortDestinations, sortServices } from './sort.js';
import { TextSink } from './text-sink.js';

export interface ListFormat {
  numeric: boolean;
  stats: boolean;
  rate: boolean;
  thresholds: boolean;
  persistentConn: boolean;
  tunInfo: boolean;
  exact: boolean;
  nosort: boolean;
  resolver?: NameResolver;
  /** Text appended to each virtual service line (lvsadm --k8s); absent: ipvsadm's output. */
  annotate?: (service: IpvsService) => string;
}

export const DEFAULT_LIST_FORMAT: ListFormat = {
  numeric: false,
  stats: false,
  rate: false,
  thresholds: false,
  persistentConn: false,
  tunInfo: false,
  exact: false,
  nosort: false,
};

/** NVERSION: major.minor.patch from 0xMMmmpp. */
export function versionText(version: number): string {
  return `${(version >> 16) & 0xff}.${(version >> 8) & 0xff}.${version & 0xff}`;
}

export function formatHeader(info: IpvsInfo): string {
  return `IP Virtual Server version ${versionText(info.version)} (size=${i32(info.connTableSize)})\n`;
}

export function formatTitle(f: ListFormat): string {
  const tail = '  -> RemoteAddress:Port\n';
  const head = left('Prot LocalAddress:Port', 33);
  if (f.stats) {
    return `${head} ${['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((h) => right(h, 8)).join(' ')}\n${tail}`;
  }
  if (f.rate) {
    return `${head} ${['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((h) => right(h, 8)).join(' ')}\n${tail}`;
  }
  if (f.thresholds) {
    return `${head} ${['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((h) => left(h, 10)).join(' ')}\n${tail}`;
  }
  if (f.persistentConn) {
    return `${head} ${left('Weight', 9)} ${left('PersistConn', 11)} ${left('ActiveConn', 10)} ${left('InActConn', 10)}\n${tail}`;
  }
  if (f.tunInfo) {
    return (
      'Prot LocalAddress:Port Scheduler Flags\n' +
      '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n'
    );
  }
  return (
    'Prot LocalAddress:Port Scheduler Flags\n' +
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
  );
}

function protocolName(p: number): string {
  if (p === 6) return 'TCP';
  if (p === 17) return 'UDP';
  if (p === 132) return 'SCTP';
  return '?';
}

/** The listing's service column (not the -S form). */
export function serviceName(s: IpvsService, f: ListFormat): string {
  if (s.fwmark) return s.family === AF_INET6 ? `FWM  ${s.fwmark | 0} IPv6` : `FWM  ${s.fwmark | 0}`;
  const v = addrPortName(s.family, s.address, s.port, s.protocol, f);
  const name = `${left(protocolName(s.protocol), 4)} ${v}`;
  return s.family !== AF_INET6 ? cut(name, 33) : name;
}

export function fwdName(forward: number): string {
  switch (forward & 7) {
    case 0:
      return 'Masq';
    case 1:
      return 'Local';
    case 2:
      return 'Tunnel';
    case 3:
      return 'Route';
    default:
      return '(null)';
  }
}

const TUN_FLAGS = ['-c', '+c', 'r+c'];

function tunInfo(d: IpvsDestination): string {
  if ((d.forward & 7) !== 2) return 'n/a';
  let s: string;
  switch (d.tunType) {
    case 0:
      s = 'ipip';
      break;
    case 1:
      s = `gue:${d.tunPort | 0}:${TUN_FLAGS[d.tunFlags] ?? '(null)'}`;
      break;
    case 2:
      s = `gre:${TUN_FLAGS[d.tunFlags] ?? '(null)'}`;
      break;
    default:
      return 'n/a';
  }
  return cut(s, 15);
}

function serviceLine(s: IpvsService, name: string, f: ListFormat): string {
  const st = s.stats ?? ZERO_STATS;
  if (f.stats) {
    return (
      left(name, 33) +
      [st.conns, st.inPackets, st.outPackets, st.inBytes, st.outBytes]
        .map((v) => largenum(v, f.exact))
        .join('')
    );
  }
  if (f.rate) {
    return (
      left(name, 33) +
      [st.cps, st.inPps, st.outPps, st.inBps, st.outBps].map((v) => largenum(v, f.exact)).join('')
    );
  }
  let out = `${name} ${s.scheduler}`;
  if (s.flags & SVC_F_SCHED_ANY) out += ` (${schedFlagsText(s.scheduler, s.flags)})`;
  if (s.flags & SVC_F_PERSISTENT) {
    out += ` persistent ${u32(s.timeout)}`;
    if (s.family === AF_INET && s.netmask >>> 0 !== 0xffffffff)
      out += ` mask ${dottedMask(s.netmask)}`;
    if (s.family === AF_INET6 && s.netmask !== 128) out += ` mask ${i32(s.netmask)}`;
    if (s.peName) out += ` pe ${s.peName}`;
  }
  if (s.flags & SVC_F_ONEPACKET) out += ' ops';
  return out;
}

function destLine(d: IpvsDestination, s: IpvsService, f: ListFormat): string {
  let dname = addrPortName(d.family, d.address, d.port, s.protocol, f);
  if (d.family !== AF_INET6) dname = cut(dname, 28);
  const name = left(dname, 28);
  // libipvs parses destination STATS64 with its 32-bit parser: only the byte counters survive whole.
  const st = d.stats ?? ZERO_STATS;
  const active = u32(d.activeConns ?? 0);
  const inact = u32(d.inactiveConns ?? 0);
  if (f.stats) {
    return (
      `  -> ${name}` +
      [low32(st.conns), low32(st.inPackets), low32(st.outPackets), st.inBytes, st.outBytes]
        .map((v) => largenum(v, f.exact))
        .join('') +
      '\n'
    );
  }
  if (f.rate) {
    return (
      `  -> ${name} ${right(low32(st.cps).toString(), 8)} ${right(low32(st.inPps).toString(), 8)} ${right(low32(st.outPps).toString(), 8)}` +
      largenum(low32(st.inBps), f.exact) +
      largenum(low32(st.outBps), f.exact) +
      '\n'
    );
  }
  if (f.thresholds) {
    return `  -> ${name} ${left(u32(d.upperThreshold), 10)} ${left(u32(d.lowerThreshold), 10)} ${left(active, 10)} ${left(inact, 10)}\n`;
  }
  if (f.persistentConn) {
    return `  -> ${name} ${left(u32(d.weight), 9)} ${left(u32(d.persistConns ?? 0), 11)} ${left(active, 10)} ${left(inact, 10)}\n`;
  }
  if (f.tunInfo) {
    return `  -> ${name} ${left(fwdName(d.forward), 7)} ${left(tunInfo(d), 13)} ${left(i32(d.weight), 6)} ${left(active, 10)} ${left(inact, 10)}\n`;
  }
  return `  -> ${name} ${left(fwdName(d.forward), 7)} ${left(i32(d.weight), 6)} ${left(active, 10)} ${left(inact, 10)}\n`;
}

function appendServiceEntry(out: TextSink, entry: SnapshotEntry, f: ListFormat): void {
  const s = entry.service;
  out.append(serviceLine(s, serviceName(s, f), f) + (f.annotate?.(s) ?? '') + '\n');
  const dests = f.nosort ? entry.destinations : sortDestinations(entry.destinations);
  for (const d of dests) out.append(destLine(d, s, f));
}

/** print_service_entry (non-rule formats). */
export function formatServiceEntry(entry: SnapshotEntry, f: ListFormat): string {
  const out = new TextSink();
  appendServiceEntry(out, entry, f);
  return out.toString();
}

/** list_all: header, title, every service. */
export function formatList(snapshot: Snapshot, f: ListFormat): string {
  const out = new TextSink();
  out.append(formatHeader(snapshot.info) + formatTitle(f));
  const services = f.nosort ? snapshot.services : sortServices(snapshot.services);
  for (const e of services) appendServiceEntry(out, e, f);
  return out.toString();
}

/** list_service: title and the one service, no header. */
export function formatListService(entry: SnapshotEntry, f: ListFormat): string {
  return formatTitle(f) + formatServiceEntry(entry, f);
}

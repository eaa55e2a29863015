// ipvsadm 1.31 parse_options + process_options checks, producing either a listing request,
// a write command (which lvsadm refuses) or the exact error ipvsadm would print.

import { AF_INET, AF_INET6, type AddressFamily } from '../../../bindings/ipvs/types.js';
import { Popt, type PoptOption } from './popt.js';
import { atoi, inetAton, parseFwmarkValue, ptonV4, ptonV6, stringToNumber } from './inet-parse.js';
import { at } from '../format/at.js';
import { DEFAULT_LIST_FORMAT, type ListFormat } from '../format/list.js';

/** Lookups used while parsing arguments (gethostbyname / getservbyname). */
export interface ArgResolver {
  hostToIpv4(name: string): string | null;
  serviceToPort(name: string, protocol: 'tcp' | 'udp' | 'sctp'): number | null;
}

export const NO_ARG_NAMES: ArgResolver = {
  hostToIpv4: () => null,
  serviceToPort: () => null,
};

export type CommandName =
  | 'add-service'
  | 'edit-service'
  | 'delete-service'
  | 'flush'
  | 'list'
  | 'add-server'
  | 'delete-server'
  | 'edit-server'
  | 'set'
  | 'start-daemon'
  | 'stop-daemon'
  | 'restore'
  | 'save'
  | 'zero';

const CMDNAMES: CommandName[] = [
  'add-service',
  'edit-service',
  'delete-service',
  'flush',
  'list',
  'add-server',
  'delete-server',
  'edit-server',
  'set',
  'start-daemon',
  'stop-daemon',
  'restore',
  'save',
  'zero',
];

const OPTNAMES = [
  'numeric',
  'connection',
  'service-address',
  'scheduler',
  'persistent',
  'netmask',
  'real-server',
  'forwarding-method',
  'weight',
  'u-threshold',
  'l-threshold',
  'mcast-interface',
  'timeout',
  'daemon',
  'stats',
  'rate',
  'thresholds',
  'persistent-conn',
  'nosort',
  'syncid',
  'exact',
  'ops',
  'pe',
  'sched-flags',
  'mcast-group',
  'mcast-port',
  'mcast-ttl',
  'sync-maxlen',
  'tun-info',
  'tun-type',
  'tun-port',
  'tun-nocsum',
  'tun-csum',
  'tun-remcsum',
  // lvsadm's own, after ipvsadm's so its indexes stay.
  'k8s',
] as const;

const O = {
  NUMERIC: 0,
  CONNECTION: 1,
  SERVICE: 2,
  SCHEDULER: 3,
  PERSISTENT: 4,
  NETMASK: 5,
  SERVER: 6,
  FORWARD: 7,
  WEIGHT: 8,
  UTHRESHOLD: 9,
  LTHRESHOLD: 10,
  MCAST: 11,
  TIMEOUT: 12,
  DAEMON: 13,
  STATS: 14,
  RATE: 15,
  THRESHOLDS: 16,
  PERSISTENTCONN: 17,
  NOSORT: 18,
  SYNCID: 19,
  EXACT: 20,
  ONEPACKET: 21,
  PE: 22,
  SCHED_FLAGS: 23,
  MCAST_GROUP: 24,
  MCAST_PORT: 25,
  MCAST_TTL: 26,
  SYNC_MAXLEN: 27,
  TUN_INFO: 28,
  TUN_TYPE: 29,
  TUN_PORT: 30,
  TUN_NOCSUM: 31,
  TUN_CSUM: 32,
  TUN_REMCSUM: 33,
  K8S: 34,
} as const;

// commands_v_options, one string per command, one character per option in OPTNAMES order
// (the last column, k8s, is lvsadm's: allowed with the list command only).
const CVO: string[] = [
  'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxx',
  'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxx',
  'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  ' 11xxxxxxxxx11       xxxxxxx xxxxx ',
  'xx+xxx+    xxxxxxxxxxxxxxxxxx     x',
  'xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'xx+xxx+    xxxxxxxxxxxxxxxxxx     x',
  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'xxxxxxxxxxx xxxxxxx xxxx    xxxxxxx',
  'xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxxx',
  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  ' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
];

const TAG = {
  SET: 128,
  START_DAEMON: 129,
  STOP_DAEMON: 130,
  MCAST_INTERFACE: 131,
  TIMEOUT: 132,
  DAEMON: 133,
  STATS: 134,
  RATE: 135,
  THRESHOLDS: 136,
  PERSISTENTCONN: 137,
  SORT: 138,
  NO_SORT: 139,
  PE: 140,
  SCTP_SERVICE: 141,
  MCAST_GROUP: 142,
  MCAST_PORT: 143,
  MCAST_TTL: 144,
  SYNC_MAXLEN: 145,
  TUN_INFO: 146,
  TUN_TYPE: 147,
  TUN_PORT: 148,
  TUN_NOCSUM: 149,
  TUN_CSUM: 150,
  TUN_REMCSUM: 151,
  K8S: 152,
} as const;

const n = (long: string | null, short: string | null, val: number | string): PoptOption => ({
  long,
  short,
  kind: 'none',
  val,
});
const s = (long: string | null, short: string | null, val: number | string): PoptOption => ({
  long,
  short,
  kind: 'string',
  val,
});

const TABLE: PoptOption[] = [
  n('add-service', 'A', 'A'),
  n('edit-service', 'E', 'E'),
  n('delete-service', 'D', 'D'),
  n('clear', 'C', 'C'),
  n('list', 'L', 'L'),
  n('list', 'l', 'l'),
  n('zero', 'Z', 'Z'),
  n('add-server', 'a', 'a'),
  n('edit-server', 'e', 'e'),
  n('delete-server', 'd', 'd'),
  n('set', null, TAG.SET),
  n('help', 'h', 'h'),
  n('version', 'v', 'v'),
  n('restore', 'R', 'R'),
  n('save', 'S', 'S'),
  s('start-daemon', null, TAG.START_DAEMON),
  s('stop-daemon', null, TAG.STOP_DAEMON),
  s('tcp-service', 't', 't'),
  s('udp-service', 'u', 'u'),
  s('sctp-service', null, TAG.SCTP_SERVICE),
  s('fwmark-service', 'f', 'f'),
  s('scheduler', 's', 's'),
  { long: 'persistent', short: 'p', kind: 'optional', val: 'p' },
  s('netmask', 'M', 'M'),
  s('real-server', 'r', 'r'),
  n('masquerading', 'm', 'm'),
  n('ipip', 'i', 'i'),
  n('gatewaying', 'g', 'g'),
  s('weight', 'w', 'w'),
  s('u-threshold', 'x', 'x'),
  s('l-threshold', 'y', 'y'),
  n('numeric', 'n', 'n'),
  n('connection', 'c', 'c'),
  s('mcast-interface', null, TAG.MCAST_INTERFACE),
  s('syncid', null, 'I'),
  n('timeout', null, TAG.TIMEOUT),
  n('daemon', null, TAG.DAEMON),
  n('stats', null, TAG.STATS),
  n('rate', null, TAG.RATE),
  n('thresholds', null, TAG.THRESHOLDS),
  n('persistent-conn', null, TAG.PERSISTENTCONN),
  n('nosort', null, TAG.NO_SORT),
  n('sort', null, TAG.SORT),
  n('exact', 'X', 'X'),
  n('ipv6', '6', '6'),
  n('ops', 'o', 'o'),
  s('pe', null, TAG.PE),
  s('sched-flags', 'b', 'b'),
  s('mcast-group', null, TAG.MCAST_GROUP),
  s('mcast-port', null, TAG.MCAST_PORT),
  s('mcast-ttl', null, TAG.MCAST_TTL),
  s('sync-maxlen', null, TAG.SYNC_MAXLEN),
  n('tun-info', null, TAG.TUN_INFO),
  s('tun-type', null, TAG.TUN_TYPE),
  s('tun-port', null, TAG.TUN_PORT),
  n('tun-nocsum', null, TAG.TUN_NOCSUM),
  n('tun-csum', null, TAG.TUN_CSUM),
  n('tun-remcsum', null, TAG.TUN_REMCSUM),
  n('k8s', null, TAG.K8S),
];

/** The virtual service named by -t/-u/--sctp-service/-f, as ipvsadm would send it to the kernel. */
export interface ServiceKey {
  family: AddressFamily;
  protocol: number;
  /** Textual address ('0.0.0.0' when not given). */
  address: string;
  port: number;
  fwmark: number;
}

export interface ListRequest extends Omit<ListFormat, 'resolver' | 'annotate'> {
  what: 'all' | 'service' | 'connections' | 'timeout' | 'daemon';
  save: boolean;
  /** --k8s: append each virtual service's owning Service port. */
  k8s: boolean;
  service?: ServiceKey;
}

export type Parsed =
  | { kind: 'list'; request: ListRequest }
  | { kind: 'write'; command: CommandName }
  | { kind: 'exit'; stdout: string; stderr: string; code: number; usage?: boolean }
  | { kind: 'help' }
  | { kind: 'version' };

/** A failure ipvsadm reports and exits on. */
class Exit extends Error {
  constructor(
    readonly stderr: string,
    readonly code: number,
  ) {
    super(stderr);
  }
}

function fail(msg: string): never {
  throw new Exit(`${msg}\n`, 2);
}

function tryhelp(program: string): never {
  throw new Exit(`Try \`${program} -h' or '${program} --help' for more information.\n`, 255);
}

const SERVICE_ADDR = 1;
const SERVICE_PORT = 2;

interface SvcState {
  family: AddressFamily;
  protocol: number;
  address: string;
  port: number;
  fwmark: number;
  netmask: number;
  sched: string;
  flags: number;
}

function strIsDigit(str: string): boolean {
  for (const c of str) if (c < '0' || c > '9') return false;
  return true;
}

function protoText(p: number): 'tcp' | 'udp' | 'sctp' | null {
  return p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 132 ? 'sctp' : null;
}

/** ipvsadm parse_service; mutates svc like the C code (including on partial failure). */
function parseService(buf: string, svc: SvcState, names: ArgResolver): number {
  if (strIsDigit(buf)) return 0;
  let b = buf;
  let portText: string | null = null;
  if (b.startsWith('[')) {
    b = b.slice(1);
    const close = b.indexOf(']');
    if (close < 0) return 0;
    const after = b.slice(close + 1);
    b = b.slice(0, close);
    if (!after.startsWith(':')) return 0;
    portText = after.slice(1);
  }
  const v6 = ptonV6(b);
  if (v6 !== null) {
    svc.address = v6;
    svc.family = AF_INET6;
    svc.netmask = 128;
  } else {
    // strrchr(buf, ':') inside the (already bracket-stripped) host: a bracketed IPv4 loses its port.
    const colon = b.lastIndexOf(':');
    portText = colon >= 0 ? b.slice(colon + 1) : null;
    if (colon >= 0) b = b.slice(0, colon);
    const v4 = inetAton(b) ?? names.hostToIpv4(b);
    if (v4 === null) return 0;
    svc.address = v4;
    svc.family = AF_INET;
  }
  let result = SERVICE_ADDR;
  if (portText !== null) {
    result |= SERVICE_PORT;
    let port = stringToNumber(portText, 0, 65535);
    if (port === -1) {
      const p = protoText(svc.protocol);
      const named = p ? names.serviceToPort(portText, p) : null;
      if (named === null) return 0;
      port = named;
    }
    svc.port = port;
  }
  return result;
}

function parseSchedFlags(sched: string, arg: string): number {
  const s2 = sched !== '' ? sched : 'wlc';
  const tokens = arg.split(',').filter((t) => t !== '');
  if (tokens.length === 0) {
    // strtok returns NULL and ipvsadm dereferences it.
    throw new Exit('', 139);
  }
  let flags = 0;
  for (const flag of tokens) {
    if (flag === 'flag-1') flags |= 0x08;
    else if (flag === 'flag-2') flags |= 0x10;
    else if (flag === 'flag-3') flags |= 0x20;
    else if (flag === 'sh-fallback' || flag === 'sh-port') {
      flags |= flag === 'sh-fallback' ? 0x08 : 0x10;
      if (s2 !== 'sh') fail(`incompatible scheduler flag \`${flag}'`);
    } else if (flag === 'mh-fallback' || flag === 'mh-port') {
      flags |= flag === 'mh-fallback' ? 0x08 : 0x10;
      if (s2 !== 'mh') fail(`incompatible scheduler flag \`${flag}'`);
    } else fail(`invalid scheduler flag \`${flag}'`);
  }
  return flags;
}

function isMulticast6(addr: string): boolean {
  return addr.toLowerCase().startsWith('ff');
}

const CMD = {
  ADD: 1,
  EDIT: 2,
  DEL: 3,
  FLUSH: 4,
  LIST: 5,
  ADDDEST: 6,
  DELDEST: 7,
  EDITDEST: 8,
  TIMEOUT: 9,
  STARTDAEMON: 10,
  STOPDAEMON: 11,
  RESTORE: 12,
  SAVE: 13,
  ZERO: 14,
} as const;

function parseInner(program: string, args: readonly string[], names: ArgResolver): Parsed {
  const popt = new Popt([program, ...args], TABLE);
  const options = new Set<number>();
  const setOption = (o: number): void => {
    if (options.has(o)) fail(`multiple '${OPTNAMES[o]}' options specified`);
    options.add(o);
  };
  const svc: SvcState = {
    family: AF_INET,
    protocol: 0,
    address: '0.0.0.0',
    port: 0,
    fwmark: 0,
    netmask: 0xffffffff,
    sched: '',
    flags: 0,
  };
  const dest = { family: AF_INET as AddressFamily, fwd: 3, tunType: 0 };
  const fmt: ListFormat = { ...DEFAULT_LIST_FORMAT };
  let schedFlagsArg = '';

  const first = popt.getNextOpt();
  if (first.type !== 'opt') tryhelp(program);
  let cmd: number;
  switch (first.val) {
    case 'A':
      cmd = CMD.ADD;
      break;
    case 'E':
      cmd = CMD.EDIT;
      break;
    case 'D':
      cmd = CMD.DEL;
      break;
    case 'a':
      cmd = CMD.ADDDEST;
      break;
    case 'e':
      cmd = CMD.EDITDEST;
      break;
    case 'd':
      cmd = CMD.DELDEST;
      break;
    case 'C':
      cmd = CMD.FLUSH;
      break;
    case 'L':
    case 'l':
      cmd = CMD.LIST;
      break;
    case 'Z':
      cmd = CMD.ZERO;
      break;
    case TAG.SET:
      cmd = CMD.TIMEOUT;
      break;
    case 'R':
      cmd = CMD.RESTORE;
      break;
    case 'S':
      cmd = CMD.SAVE;
      break;
    case TAG.START_DAEMON:
    case TAG.STOP_DAEMON:
      cmd = first.val === TAG.START_DAEMON ? CMD.STARTDAEMON : CMD.STOPDAEMON;
      if (first.arg !== 'master' && first.arg !== 'backup') {
        fail(
          cmd === CMD.STARTDAEMON
            ? 'illegal start-daemon parameter specified'
            : 'illegal start_daemon specified',
        );
      }
      break;
    case 'h':
      return { kind: 'help' };
    case 'v':
      return { kind: 'version' };
    default:
      tryhelp(program);
  }

  let ev = popt.getNextOpt();
  for (; ev.type === 'opt'; ev = popt.getNextOpt()) {
    const arg = ev.arg ?? '';
    switch (ev.val) {
      case 't':
      case 'u':
      case TAG.SCTP_SERVICE: {
        setOption(O.SERVICE);
        svc.protocol = ev.val === 't' ? 6 : ev.val === 'u' ? 17 : 132;
        const r = parseService(arg, svc, names);
        if (!(r & SERVICE_ADDR)) fail('illegal virtual server address[:port] specified');
        break;
      }
      case 'f': {
        setOption(O.SERVICE);
        svc.family = AF_INET;
        svc.protocol = 6;
        const mark = parseFwmarkValue(arg);
        if (mark === null) fail(`invalid fwmark value \`${arg}' specified`);
        svc.fwmark = mark;
        break;
      }
      case 's':
        setOption(O.SCHEDULER);
        // strncpy into IP_VS_SCHEDNAME_MAXLEN - 1 bytes.
        svc.sched = Buffer.from(arg).subarray(0, 15).toString();
        break;
      case 'p':
        setOption(O.PERSISTENT);
        svc.flags |= 1;
        if (ev.arg !== null && stringToNumber(ev.arg, 1, 86400 * 31) === -1) {
          fail(`invalid timeout value \`${ev.arg}' specified`);
        }
        break;
      case 'M':
        setOption(O.NETMASK);
        if (svc.family !== AF_INET6) {
          if ((inetAton(arg) ?? names.hostToIpv4(arg)) === null) {
            fail('illegal virtual server persistent mask specified');
          }
        } else {
          const m = atoi(arg);
          if (m < 1 || m > 128) fail('illegal ipv6 netmask specified');
        }
        break;
      case 'r': {
        setOption(O.SERVER);
        const t: SvcState = { ...svc };
        const r = parseService(arg, t, names);
        dest.family = t.family;
        if (!(r & SERVICE_ADDR)) fail('illegal real server address[:port] specified');
        break;
      }
      case 'i':
        setOption(O.FORWARD);
        dest.fwd = 2;
        break;
      case 'g':
        setOption(O.FORWARD);
        dest.fwd = 3;
        break;
      case 'm':
        setOption(O.FORWARD);
        dest.fwd = 0;
        break;
      case 'w':
        setOption(O.WEIGHT);
        if (stringToNumber(arg, 0, 2147483647) === -1) fail('illegal weight specified');
        break;
      case 'x':
        setOption(O.UTHRESHOLD);
        if (stringToNumber(arg, 0, 2147483647) === -1) fail('illegal u_threshold specified');
        break;
      case 'y':
        setOption(O.LTHRESHOLD);
        if (stringToNumber(arg, 0, 2147483647) === -1) fail('illegal l_threshold specified');
        break;
      case 'c':
        setOption(O.CONNECTION);
        break;
      case 'n':
        setOption(O.NUMERIC);
        fmt.numeric = true;
        break;
      case TAG.MCAST_INTERFACE:
        setOption(O.MCAST);
        break;
      case 'I':
        setOption(O.SYNCID);
        if (stringToNumber(arg, 0, 255) === -1) fail('illegal syncid specified');
        break;
      case TAG.TIMEOUT:
        setOption(O.TIMEOUT);
        break;
      case TAG.DAEMON:
        setOption(O.DAEMON);
        break;
      case TAG.STATS:
        setOption(O.STATS);
        fmt.stats = true;
        break;
      case TAG.RATE:
        setOption(O.RATE);
        fmt.rate = true;
        break;
      case TAG.THRESHOLDS:
        setOption(O.THRESHOLDS);
        fmt.thresholds = true;
        break;
      case TAG.PERSISTENTCONN:
        setOption(O.PERSISTENTCONN);
        fmt.persistentConn = true;
        break;
      case TAG.NO_SORT:
        setOption(O.NOSORT);
        fmt.nosort = true;
        break;
      case TAG.SORT:
        break;
      case 'X':
        setOption(O.EXACT);
        fmt.exact = true;
        break;
      case '6':
        if (svc.fwmark) {
          svc.family = AF_INET6;
          svc.netmask = 128;
        } else fail('-6 used before -f\n');
        break;
      case 'o':
        setOption(O.ONEPACKET);
        svc.flags |= 4;
        break;
      case TAG.PE:
        setOption(O.PE);
        break;
      case 'b':
        setOption(O.SCHED_FLAGS);
        schedFlagsArg = Buffer.from(ev.arg ?? '(null)')
          .subarray(0, 127)
          .toString();
        break;
      case TAG.MCAST_GROUP:
        setOption(O.MCAST_GROUP);
        if (arg.includes(':')) {
          const a = ptonV6(arg);
          if (a === null || !isMulticast6(a)) fail(`invalid IPv6 mcast-group \`${arg}'`);
        } else {
          const a = ptonV4(arg);
          const first8 = a === null ? 0 : Number(a.split('.')[0]);
          if (a === null || first8 < 224 || first8 > 239)
            fail(`invalid IPv4 mcast-group \`${arg}'`);
        }
        break;
      case TAG.MCAST_PORT:
        setOption(O.MCAST_PORT);
        if (stringToNumber(arg, 1, 65535) === -1) fail('illegal mcast-port specified');
        break;
      case TAG.MCAST_TTL:
        setOption(O.MCAST_TTL);
        if (stringToNumber(arg, 1, 255) === -1) fail('illegal mcast-ttl specified');
        break;
      case TAG.SYNC_MAXLEN:
        setOption(O.SYNC_MAXLEN);
        if (stringToNumber(arg, 1, 65535 - 20 - 8) === -1) fail('illegal sync-maxlen specified');
        break;
      case TAG.TUN_INFO:
        setOption(O.TUN_INFO);
        fmt.tunInfo = true;
        break;
      case TAG.TUN_TYPE: {
        setOption(O.TUN_TYPE);
        const tt = ['ipip', 'gue', 'gre'].indexOf(arg);
        if (tt === -1) fail('illegal tunnel type specified');
        dest.tunType = tt;
        break;
      }
      case TAG.TUN_PORT:
        setOption(O.TUN_PORT);
        if (stringToNumber(arg, 1, 65535) === -1) fail('illegal tunnel port specified');
        break;
      case TAG.TUN_NOCSUM:
        setOption(O.TUN_NOCSUM);
        break;
      case TAG.TUN_CSUM:
        setOption(O.TUN_CSUM);
        break;
      case TAG.TUN_REMCSUM:
        setOption(O.TUN_REMCSUM);
        break;
      case TAG.K8S:
        setOption(O.K8S);
        break;
      default:
        fail(`invalid option \`${popt.badOption()}'`);
    }
  }
  if (ev.type === 'error') {
    throw new Exit(`${popt.badOption()}: ${ev.message}\n`, 255);
  }

  if (cmd === CMD.TIMEOUT) {
    const a = popt.getArg();
    const b = a !== null ? popt.getArg() : null;
    const c = b !== null ? popt.getArg() : null;
    if (a !== null && b !== null && c !== null) {
      for (const x of [a, b, c]) {
        if (stringToNumber(x, 0, 86400 * 31) === -1)
          fail(`invalid timeout value \`${x}' specified`);
      }
    } else fail('--set option requires 3 timeout values');
  }
  const extra = popt.getArg();
  if (extra !== null) fail(`unexpected argument ${extra}`);
  if (schedFlagsArg !== '') parseSchedFlags(svc.sched, schedFlagsArg);

  // generic_opt_check
  const row = at(CVO, cmd - 1);
  let count = 0;
  let last = 0;
  for (let j = 0; j < OPTNAMES.length; j++) {
    const rule = row[j] ?? ' ';
    if (!options.has(j)) {
      if (rule === '+') {
        fail(
          `You need to supply the '${OPTNAMES[j]}' option for the '${CMDNAMES[cmd - 1]}' command`,
        );
      }
    } else {
      if (rule === 'x')
        fail(`Illegal '${OPTNAMES[j]}' option with the '${CMDNAMES[cmd - 1]}' command`);
      if (rule === '1') {
        count++;
        if (count === 1) {
          last = j;
          continue;
        }
        fail(
          `The option '${OPTNAMES[j]}' conflicts with the '${OPTNAMES[last]}' option in the '${CMDNAMES[cmd - 1]}' command`,
        );
      }
    }
  }

  if (cmd === CMD.ADD || cmd === CMD.EDIT) {
    if (!svc.fwmark && !svc.port && !(svc.flags & 1)) {
      fail('Zero port specified for non-persistent service');
    }
    if (svc.flags & 4 && !svc.fwmark && svc.protocol !== 17) {
      fail('One-Packet Scheduling is only for UDP virtual services');
    }
  }
  if (cmd === CMD.ADDDEST || cmd === CMD.EDITDEST) {
    if (dest.family !== svc.family && dest.fwd !== 2) {
      fail('Different address family is allowed only for tunneling servers');
    }
    const tunOpts = [O.TUN_TYPE, O.TUN_PORT, O.TUN_NOCSUM, O.TUN_CSUM, O.TUN_REMCSUM];
    if (tunOpts.some((o) => options.has(o)) && dest.fwd !== 2) {
      fail('Tunnel options conflict with forward method');
    }
    // tunnel_opt_check
    const TUNNAMES = ['ipip', 'gue', 'gre'];
    const TVO = ['xxxx', '+111', 'x11x'];
    const tunopts = [O.TUN_PORT, O.TUN_NOCSUM, O.TUN_CSUM, O.TUN_REMCSUM];
    const trow = at(TVO, dest.tunType);
    let tc = 0;
    let tlast = 0;
    for (let j = 0; j < 4; j++) {
      const k = at(tunopts, j);
      const rule = at(trow, j);
      if (!options.has(k)) {
        if (rule === '+') {
          fail(
            `You need to supply the '${OPTNAMES[k]}' option for the '${TUNNAMES[dest.tunType]}' tunnel type`,
          );
        }
      } else {
        if (rule === 'x') {
          fail(`Illegal '${OPTNAMES[k]}' option with the '${TUNNAMES[dest.tunType]}' tunnel type`);
        }
        if (rule === '1') {
          tc++;
          if (tc === 1) {
            tlast = k;
            continue;
          }
          fail(
            `The option '${OPTNAMES[k]}' conflicts with the '${OPTNAMES[tlast]}' option in the '${TUNNAMES[dest.tunType]}' tunnel type`,
          );
        }
      }
    }
  }

  if (cmd === CMD.LIST) {
    const has = (o: number): boolean => options.has(o);
    if (
      ((has(O.CONNECTION) || has(O.TIMEOUT) || has(O.DAEMON)) &&
        (has(O.STATS) || has(O.RATE) || has(O.THRESHOLDS))) ||
      ((has(O.TIMEOUT) || has(O.DAEMON)) && has(O.PERSISTENTCONN)) ||
      // --k8s names the owners of virtual services; these listings show none.
      (has(O.K8S) && (has(O.CONNECTION) || has(O.TIMEOUT) || has(O.DAEMON)))
    ) {
      fail('options conflicts in the list command');
    }
    const what = has(O.CONNECTION)
      ? 'connections'
      : has(O.SERVICE)
        ? 'service'
        : has(O.TIMEOUT)
          ? 'timeout'
          : has(O.DAEMON)
            ? 'daemon'
            : 'all';
    const request: ListRequest = { what, save: false, k8s: has(O.K8S), ...fmt };
    if (what === 'service') {
      request.service = {
        family: svc.family,
        protocol: svc.protocol,
        address: svc.address,
        port: svc.port,
        fwmark: svc.fwmark,
      };
    }
    return { kind: 'list', request };
  }
  if (cmd === CMD.SAVE) {
    return { kind: 'list', request: { what: 'all', save: true, k8s: false, ...fmt } };
  }
  return { kind: 'write', command: at(CMDNAMES, cmd - 1) };
}

/** Parse ipvsadm-style arguments (without argv[0]). `program` is what messages call us. */
export function parseArgs(program: string, args: readonly string[], names: ArgResolver): Parsed {
  if (args.length === 0) {
    return {
      kind: 'list',
      request: {
        what: 'all',
        save: false,
        k8s: false,
        numeric: false,
        stats: false,
        rate: false,
        thresholds: false,
        persistentConn: false,
        tunInfo: false,
        exact: false,
        nosort: false,
      },
    };
  }
  try {
    return parseInner(program, args, names);
  } catch (e) {
    if (e instanceof Exit) return { kind: 'exit', stdout: '', stderr: e.stderr, code: e.code };
    throw e;
  }
}

// Random IPVS states as ipvsadm -R input. Seeded so a failing run can be replayed
// (KUBE_IPVS_LVSADM_SEED). Address pools straddle 2^31 so ipvsadm's wrapping comparator and glibc's
// merge sort order are exercised; IPv4 real servers come only from prefixes the test
// routes to a dummy device (the kernel refuses unroutable ones).

import { at } from '../../../lib/cli/format/at.js';
import { SCHEDULERS } from '../../../lib/ipvs/schedulers.js';

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** IPv4 first octets routed to the dummy device for real servers. */
export const ROUTED_V4_OCTETS = [1, 11, 100, 172, 192, 200, 223];

export interface GeneratedService {
  /** The -t/-u/--sctp-service/-f arguments naming it, e.g. ['-t', '1.2.3.4:80']. */
  selector: string[];
  udpTarget?: { address: string; port: number };
}

export interface GeneratedState {
  lines: string[];
  services: GeneratedService[];
}

export function generateState(rand: () => number): GeneratedState {
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => at(xs, Math.floor(rand() * xs.length));
  const chance = (p: number): boolean => rand() < p;

  const v4 = (routed: boolean): string => {
    const first = routed
      ? pick(ROUTED_V4_OCTETS)
      : pick([1, 10, 11, 100, 127, 172, 192, 200, 223, 126, 129]);
    return `${first}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`;
  };
  const v6 = (): string => {
    const head = pick(['fd00', '2001:db8', 'fe80:1', '8000', '7fff', 'ffff:1', '2a00']);
    const tail = Array.from({ length: int(1, 3) }, () => int(0, 0xffff).toString(16));
    return `${head}::${tail.join(':')}`;
  };
  const port = (): number => pick([80, 443, 53, 8080, 1, 65535, 32768, int(1, 65535)]);

  const lines: string[] = [];
  const services: GeneratedService[] = [];
  const seen = new Set<string>();
  const nsvc = int(0, 10);
  for (let i = 0; i < nsvc; i++) {
    const six = chance(0.35);
    const kind = pick(['t', 't', 'u', 'u', 'sctp', 'f'] as const);
    let sel: string[];
    let proto: 'tcp' | 'udp' | 'sctp' | 'fw';
    let vip = '';
    let vport = 0;
    const persistent = chance(0.35);
    if (kind === 'f') {
      const mark = pick([
        1,
        2,
        7,
        100,
        int(1, 1000),
        2147483647,
        2147483648,
        4294967295,
        int(1, 4294967295),
      ]);
      sel = six ? ['-f', String(mark), '-6'] : ['-f', String(mark)];
      proto = 'fw';
    } else {
      vip = six ? v6() : v4(chance(0.5));
      vport = persistent && chance(0.2) ? 0 : port();
      const addr = six ? `[${vip}]:${vport}` : `${vip}:${vport}`;
      sel = kind === 'sctp' ? ['--sctp-service', addr] : [`-${kind}`, addr];
      proto = kind === 't' ? 'tcp' : kind === 'u' ? 'udp' : 'sctp';
    }
    const key = sel.join(' ');
    if (seen.has(key)) continue;
    seen.add(key);
    const sched = pick(SCHEDULERS);
    const parts = ['-A', ...sel, '-s', sched];
    if (persistent) {
      parts.push('-p', String(pick([1, 60, 300, 10800, 86400 * 31, int(1, 86400 * 31)])));
      if (chance(0.5)) {
        parts.push(
          '-M',
          six
            ? String(int(1, 128))
            : pick(['255.255.255.0', '255.255.0.0', '0.0.0.0', '255.0.255.0', '255.255.255.254']),
        );
      }
    }
    if ((proto === 'udp' || proto === 'fw') && chance(0.3)) parts.push('-o');
    if (chance(0.4)) {
      const flags =
        sched === 'sh'
          ? ['sh-fallback', 'sh-port', 'flag-3']
          : sched === 'mh'
            ? ['mh-fallback', 'mh-port', 'flag-3']
            : ['flag-1', 'flag-2', 'flag-3'];
      const chosen = flags.filter(() => chance(0.5));
      if (chosen.length) parts.push('-b', chosen.join(','));
    }
    lines.push(parts.join(' '));
    const svc: GeneratedService = { selector: sel };
    const ndest = int(0, 6);
    const dseen = new Set<string>();
    let hasDest = false;
    for (let j = 0; j < ndest; j++) {
      const fwd = pick(['-m', '-g', '-i'] as const);
      const mixed = fwd === '-i' && chance(0.2);
      const dsix = mixed ? !six : six;
      let daddr = dsix ? v6() : v4(true);
      // The kernel refuses multicast (ff00::/8) and scope-less link-local real servers.
      while (daddr.startsWith('ff') || daddr.startsWith('fe80')) daddr = v6();
      const dport = fwd === '-m' || proto === 'fw' ? port() : vport;
      const dtext = dsix ? `[${daddr}]:${dport}` : `${daddr}:${dport}`;
      if (dseen.has(dtext)) continue;
      dseen.add(dtext);
      const d = [
        '-a',
        ...sel,
        '-r',
        dtext,
        fwd,
        '-w',
        String(pick([0, 1, 100, 65535, int(0, 65535)])),
      ];
      // The kernel rejects a lower threshold above the upper one.
      if (chance(0.4)) {
        const upper = pick([0, 1, 1000, 2147483647, int(0, 2147483647)]);
        d.push('-x', String(upper));
        if (chance(0.6)) d.push('-y', String(pick([0, upper, int(0, upper)])));
      }
      if (fwd === '-i' && chance(0.6)) {
        const tt = pick(['ipip', 'gue', 'gre']);
        d.push('--tun-type', tt);
        if (tt === 'gue') d.push('--tun-port', String(int(1, 65535)));
        if (tt !== 'ipip' && chance(0.6)) {
          d.push(
            pick(
              tt === 'gue'
                ? ['--tun-nocsum', '--tun-csum', '--tun-remcsum']
                : ['--tun-nocsum', '--tun-csum'],
            ),
          );
        }
      }
      lines.push(d.join(' '));
      hasDest = true;
    }
    if (
      proto === 'udp' &&
      !six &&
      hasDest &&
      vport !== 0 &&
      ROUTED_V4_OCTETS.includes(Number(vip.split('.')[0]))
    ) {
      svc.udpTarget = { address: vip, port: vport };
    }
    services.push(svc);
  }
  return { lines, services };
}

// iptables-save of the nat and filter tables → the IPVS-shaped table the rules stand for
// (through the comment contract of comment.ts), with what is installed for each virtual
// server so a later write can replace exactly that. A virtual server whose rules differ
// from those its comments ask for (edited by hand) is reported with DRIFT as its
// persistence engine, so the reconcile diff rewrites it. Pure.
import type { SavedTable } from '../../../bindings/iptables/save.js';
import type { IptablesFamily } from '../../../bindings/iptables/run.js';
import type { IpvsDestination, IpvsService } from '../../../bindings/ipvs/types.js';
import type { VirtualServerKey } from '../../model/types.js';
import { sortIpvsEntries, type IpvsEntry } from '../ipvs/convert.js';
import { ipvsServiceKey } from '../ipvs/key.js';
import { NODE_PORT_RANGE } from '../ipvs/ownership.js';
import {
  commentOf,
  parseDestinationComment,
  parseServiceComment,
  parseServiceName,
  serviceName,
} from './comment.js';
import { CHAINS, JUMPS, PORTALS_HEAD, SEP_PREFIX, SVC_PREFIX, serviceRules } from './rules.js';

/** The persistence engine name a drifted virtual server is reported with (never desired). */
export const DRIFT = 'kube-ipvs-drift';

export interface Installed {
  readonly entry: IpvsEntry;
  /** Its rules in KUBE-IPVS-PORTALS and KUBE-IPVS-REJECT, as found. */
  readonly portals: readonly string[];
  readonly rejects: readonly string[];
  /** Our chains it uses (its KUBE-IPVS-SVC- chain). */
  readonly chains: readonly string[];
}

/** The state of the chains and jumps every virtual server of a family relies on. */
export interface Base {
  readonly portals: boolean;
  /** How often PORTALS_HEAD stands first (1 when right) and elsewhere in the chain. */
  readonly headFirst: boolean;
  readonly heads: number;
  readonly reject: boolean;
  /** How many times each jump of JUMPS is there, in JUMPS order. */
  readonly jumps: readonly number[];
}

export function baseOk(b: Base): boolean {
  return b.portals && b.headFirst && b.heads === 1 && b.reject && b.jumps.every((n) => n === 1);
}

export interface ReadResult {
  readonly services: Map<VirtualServerKey, Installed>;
  readonly base: Base;
  /** Our SVC chains no virtual server uses (and SEP chains, which no version writes now). */
  readonly orphans: string[];
}

const ours = (c: string): boolean => c.startsWith(SVC_PREFIX) || c.startsWith(SEP_PREFIX);

function target(rule: string): string | undefined {
  return / -j (\S+)(?: |$)/.exec(` ${rule}`)?.[1];
}

function sameList(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return (a ?? []).length === b.length && b.every((r, i) => a?.[i] === r);
}

/** The virtual server and real servers its chain's comments name. */
function readChain(name: IpvsService, rules: readonly string[]): IpvsEntry | undefined {
  const head = commentOf(rules[0] ?? '');
  const service = head === undefined ? undefined : parseServiceComment(head);
  const svcName = serviceName(name);
  const destinations: IpvsDestination[] = [];
  const seen = new Set<string>();
  for (const r of rules.slice(1)) {
    const c = commentOf(r);
    const d = c === undefined ? undefined : parseDestinationComment(c);
    if (!d || d.serviceName !== svcName || d.destination.family !== name.family) continue;
    const id = `${d.destination.address}|${d.destination.port}`;
    if (seen.has(id)) continue;
    seen.add(id);
    destinations.push(d.destination);
  }
  if (!service || serviceName(service) !== svcName) return undefined;
  // In the order translate gives (address, then port), whatever the rules' order.
  return sortIpvsEntries([{ service, destinations }])[0];
}

export function readTables(
  family: IptablesFamily,
  nat: SavedTable,
  filter: SavedTable,
): ReadResult {
  const services = new Map<VirtualServerKey, Installed>();
  const portals = nat.rules.get(CHAINS.portals) ?? [];
  const byKey = new Map<VirtualServerKey, { name: IpvsService; rules: string[] }>();
  for (const r of portals) {
    const c = commentOf(r);
    const name = c === undefined ? undefined : parseServiceName(c);
    const key = name && ipvsServiceKey(name);
    if (!name || !key || (name.family === 2) !== (family === 4)) continue;
    const group = byKey.get(key) ?? { name, rules: [] };
    group.rules.push(r);
    byKey.set(key, group);
  }
  const rejects = new Map<VirtualServerKey, string[]>();
  for (const r of filter.rules.get(CHAINS.reject) ?? []) {
    const c = commentOf(r);
    const s = c === undefined ? undefined : parseServiceComment(c);
    const key = s && ipvsServiceKey(s);
    if (!key) continue;
    rejects.set(key, [...(rejects.get(key) ?? []), r]);
  }
  const used = new Set<string>();
  for (const [key, { name, rules }] of byKey) {
    const svc = target(rules[0] ?? '');
    const chainRules = svc === undefined ? [] : (nat.rules.get(svc) ?? []);
    const read = readChain(name, chainRules);
    const chains = svc !== undefined && ours(svc) ? [svc] : [];
    for (const c of chains) used.add(c);
    const entry: IpvsEntry = read ?? {
      service: { ...name, scheduler: '-' },
      destinations: [],
    };
    const want = serviceRules(entry);
    const intact =
      read !== undefined &&
      rules.length === 1 &&
      rules[0] === want.entry &&
      sameList(rejects.get(key), want.reject === undefined ? [] : [want.reject]) &&
      [...want.chains].every(([c, rs]) => nat.chains.has(c) && sameList(nat.rules.get(c), rs)) &&
      chains.length === want.chains.size;
    services.set(key, {
      entry: intact ? entry : { ...entry, service: { ...entry.service, peName: DRIFT } },
      portals: rules,
      rejects: rejects.get(key) ?? [],
      chains,
    });
  }
  const headIndex = portals.indexOf(PORTALS_HEAD);
  const base: Base = {
    portals: nat.chains.has(CHAINS.portals),
    headFirst: headIndex === 0,
    heads: portals.filter((r) => r === PORTALS_HEAD).length,
    reject: filter.chains.has(CHAINS.reject),
    jumps: JUMPS.map(
      (j) =>
        ((j.table === 'nat' ? nat : filter).rules.get(j.chain) ?? []).filter((r) => r === j.rule)
          .length,
    ),
  };
  const orphans = [...nat.chains].filter((c) => ours(c) && !used.has(c));
  if (!baseOk(base))
    // Every virtual server of the family depends on the base: have each rewritten, which
    // repairs the base with them.
    for (const [k, i] of services)
      services.set(k, {
        ...i,
        entry: { ...i.entry, service: { ...i.entry.service, peName: DRIFT } },
      });
  return { services, base, orphans };
}

/**
 * The addresses the IPVS backend would have bound for these virtual servers: all but the
 * NodePorts (a node address at a port of the NodePort range, as ownership.ts tells them),
 * so the reconcile diff finds nothing to bind or unbind once the table is in place.
 */
export function virtualAddresses(
  entries: ReadonlyMap<VirtualServerKey, IpvsEntry>,
  nodeAddresses: readonly string[],
): Set<string> {
  const node = new Set(nodeAddresses);
  const out = new Set<string>();
  for (const { service: s } of entries.values()) {
    const nodePort = s.port >= NODE_PORT_RANGE.min && s.port <= NODE_PORT_RANGE.max;
    if (!(node.has(s.address) && nodePort)) out.add(s.address);
  }
  return out;
}

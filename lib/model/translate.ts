// Service + its EndpointSlices + this node + config → the IPVS virtual servers this node
// should have for that Service. Pure: no I/O, no clock, no randomness; the output does not
// depend on the order of slices, endpoints or ports. Bad input never throws: the offending
// object, port or endpoint is left out and reported in `skipped`; fallbacks and assumptions
// that leave nothing out are reported in `warnings`.
//
// Three steps, each in its own file: entry addresses (entries.ts), endpoint choice
// (endpoints.ts), and the assembly of virtual servers here.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { KubeIpvsConfig } from '../config/schema.js';
import { compareIps, type Ip, type IpFamily } from '../net/ip.js';
import { entryAddresses, nodePortAddresses, virtualIPsOf, type EntryAddresses } from './entries.js';
import {
  PROTOCOLS,
  chooseEndpoints,
  indexSlices,
  portKey,
  reportUnmatchedPorts,
} from './endpoints.js';
import { arr, obj, show, str, validPort, Report, type Obj } from './input.js';
import { resolveScheduler, type SchedulerChoice } from './scheduler.js';
import {
  virtualServerKey,
  type EntryKind,
  type HealthCheck,
  type NodeContext,
  type Protocol,
  type RealServer,
  type TrafficPolicy,
  type TranslateOptions,
  type TranslateResult,
  type VirtualServer,
} from './types.js';

export { SERVICE_NAME_LABEL, usableEndpoints } from './endpoints.js';
export { serviceVirtualIPs } from './entries.js';

export type TranslateConfig = Pick<
  KubeIpvsConfig,
  'scheduler' | 'schedulerFlags' | 'services' | 'nodePortAddresses'
>;

/** kube-apiserver's default for sessionAffinityConfig.clientIP.timeoutSeconds (R9.2). */
export const DEFAULT_AFFINITY_TIMEOUT = 10800;
const MAX_AFFINITY_TIMEOUT = 86400;
/** When two entries of one Service land on the same key, the earlier kind wins. */
const KIND_ORDER: readonly EntryKind[] = ['ClusterIP', 'LoadBalancer', 'ExternalIP', 'NodePort'];

/** What every virtual server of the Service shares, beyond its address. */
interface Settings {
  internalPolicy: TrafficPolicy;
  externalPolicy: TrafficPolicy;
  persistence: number;
  choice: SchedulerChoice;
}

function settings(
  service: V1Service,
  entries: EntryAddresses,
  config: TranslateConfig,
  object: string,
  report: Report,
): Settings {
  const { spec, type } = entries;
  const policy = (field: string, v: unknown): TrafficPolicy => {
    if (v === undefined || v === null || v === 'Cluster') return 'Cluster';
    if (v === 'Local') return 'Local';
    report.warn(object, `spec.${field}`, `${show(v)} is not Cluster or Local; using Cluster`);
    return 'Cluster';
  };
  const internalPolicy = policy('internalTrafficPolicy', spec.internalTrafficPolicy);
  const externallyAccessible = type !== 'ClusterIP' || entries.externalIPs.length > 0;
  const externalPolicy = externallyAccessible
    ? policy('externalTrafficPolicy', spec.externalTrafficPolicy)
    : 'Cluster';

  // Session affinity → persistence (R9.1, R9.2).
  let persistence = 0;
  if (spec.sessionAffinity === 'ClientIP') {
    const t = obj(obj(spec.sessionAffinityConfig).clientIP).timeoutSeconds;
    if (t === undefined || t === null) persistence = DEFAULT_AFFINITY_TIMEOUT;
    else if (typeof t === 'number' && Number.isInteger(t) && t >= 1 && t <= MAX_AFFINITY_TIMEOUT)
      persistence = t;
    else {
      report.warn(
        object,
        'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
        `${show(t)} is not 1-${MAX_AFFINITY_TIMEOUT}; using ${DEFAULT_AFFINITY_TIMEOUT}`,
      );
      persistence = DEFAULT_AFFINITY_TIMEOUT;
    }
  } else if (
    spec.sessionAffinity !== undefined &&
    spec.sessionAffinity !== null &&
    spec.sessionAffinity !== 'None'
  ) {
    report.warn(
      object,
      'spec.sessionAffinity',
      `${show(spec.sessionAffinity)} is not None or ClientIP; using None`,
    );
  }

  const sched = resolveScheduler(service, config, object);
  for (const w of sched.warnings) report.warn(w.object, w.field, w.reason);
  return { internalPolicy, externalPolicy, persistence, choice: sched.choice };
}

/** One Service port, validated. */
interface PortSpec {
  field: string;
  name: string;
  protocol: Protocol;
  port: number;
  nodePort?: number;
}

function portSpecs(entries: EntryAddresses, object: string, report: Report): PortSpec[] {
  const { spec, type } = entries;
  const wantNodePorts = type === 'NodePort' || type === 'LoadBalancer';
  const out: PortSpec[] = [];
  arr(spec.ports).forEach((rawPort, i) => {
    const sp = obj(rawPort);
    const field = `spec.ports[${i}]`;
    const name = sp.name === undefined || sp.name === null ? '' : str(sp.name);
    const protocol = sp.protocol === undefined || sp.protocol === null ? 'TCP' : sp.protocol;
    if (name === undefined)
      return report.skip(object, `${field}.name`, `${show(sp.name)} is not a string`);
    if (!PROTOCOLS.includes(protocol as Protocol))
      return report.skip(object, `${field}.protocol`, `${show(protocol)} is not TCP, UDP or SCTP`);
    if (!validPort(sp.port))
      return report.skip(object, `${field}.port`, `${show(sp.port)} is not a port (1-65535)`);
    let nodePort: number | undefined;
    if (wantNodePorts) {
      if (validPort(sp.nodePort)) nodePort = sp.nodePort;
      else if (sp.nodePort !== undefined && sp.nodePort !== null)
        report.skip(object, `${field}.nodePort`, `${show(sp.nodePort)} is not a port (1-65535)`);
      else if (type === 'NodePort' || spec.allocateLoadBalancerNodePorts !== false)
        report.skip(object, `${field}.nodePort`, 'no node port allocated');
      // R15.3: allocateLoadBalancerNodePorts false and no nodePort: nothing to program.
    }
    out.push({
      field,
      name,
      protocol: protocol as Protocol,
      port: sp.port,
      ...(nodePort !== undefined ? { nodePort } : {}),
    });
  });
  return out;
}

interface Draft {
  vs: VirtualServer;
  ip: Ip;
  kind: EntryKind;
  order: number;
  field: string;
}

/** One virtual server per key: collisions inside a Service resolve by kind, then port order. */
function assemble(drafts: Draft[], object: string, report: Report): VirtualServer[] {
  drafts.sort(
    (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.order - b.order,
  );
  const byKey = new Map<string, Draft>();
  for (const d of drafts) {
    const first = byKey.get(d.vs.key);
    if (first) {
      report.skip(
        object,
        d.field,
        `${d.kind} entry ${d.vs.key} duplicates the ${first.kind} entry of port ${show(first.vs.owner.portName)}; left out`,
      );
    } else {
      byKey.set(d.vs.key, d);
    }
  }
  return [...byKey.values()]
    .sort(
      (a, b) =>
        compareIps(a.ip, b.ip) ||
        PROTOCOLS.indexOf(a.vs.protocol) - PROTOCOLS.indexOf(b.vs.protocol) ||
        a.vs.port - b.vs.port,
    )
    .map((d) => d.vs);
}

function healthCheckOf(
  entries: EntryAddresses,
  s: Settings,
  localReady: ReadonlyMap<IpFamily, ReadonlySet<string>>,
  object: string,
  report: Report,
): HealthCheck | undefined {
  const spec: Obj = entries.spec;
  if (
    entries.type !== 'LoadBalancer' ||
    s.externalPolicy !== 'Local' ||
    spec.healthCheckNodePort === undefined
  )
    return undefined;
  if (validPort(spec.healthCheckNodePort)) {
    return {
      nodePort: spec.healthCheckNodePort,
      localEndpoints: Math.max(0, ...[...localReady.values()].map((x) => x.size)),
    };
  }
  report.skip(
    object,
    'spec.healthCheckNodePort',
    `${show(spec.healthCheckNodePort)} is not a port (1-65535)`,
  );
  return undefined;
}

/**
 * The virtual servers `node` should have for `service`. `slices` are the Service's
 * EndpointSlices (others are reported and ignored). See NodeContext for the node input.
 */
export function translate(
  service: V1Service,
  slices: readonly V1EndpointSlice[],
  node: NodeContext,
  config: TranslateConfig,
  options: TranslateOptions = {},
): TranslateResult {
  const report = new Report();
  const meta = obj(service?.metadata);
  const namespace = str(meta.namespace) ?? 'default';
  const name = str(meta.name);
  const object = `Service ${namespace}/${name ?? '(unnamed)'}`;
  const done = (
    virtualServers: VirtualServer[] = [],
    healthCheck?: HealthCheck,
  ): TranslateResult => ({
    virtualServers,
    skipped: report.skipped(),
    warnings: report.warnings(),
    ...(healthCheck ? { healthCheck } : {}),
  });
  if (!name) {
    report.skip(object, 'metadata.name', 'missing');
    return done();
  }

  // Step 1: entry addresses.
  const entries = entryAddresses(service, object, report);
  if (!entries) return done();
  const s = settings(service, entries, config, object, report);
  const ports = portSpecs(entries, object, report);
  let nodeIPs: Ip[] = [];
  if (ports.some((p) => p.nodePort !== undefined)) {
    nodeIPs = nodePortAddresses(node, config.nodePortAddresses, report);
  }

  // Step 2: endpoint choice. Endpoint addresses that may not be real servers: this
  // Service's VIPs and the caller's (R7.5). The caller's set holds every VIP of the
  // cluster: consulted, never copied, so one Service costs O(its own size).
  const own = new Set<string>(virtualIPsOf(entries));
  const others = options.virtualIPs;
  const forbidden = { has: (ip: string) => own.has(ip) || (others?.has(ip) ?? false) };
  const index = indexSlices(slices, namespace, name, forbidden, report);
  const nodeName = typeof node?.name === 'string' ? node.name : '';

  // Step 3: assembly.
  const drafts: Draft[] = [];
  const localReady = new Map<IpFamily, Set<string>>();
  const usedPorts = new Set<string>();
  let order = 0;
  for (const p of ports) {
    usedPorts.add(portKey(p.name, p.protocol));
    for (const family of entries.families) {
      const chosen = chooseEndpoints(index, family, p.name, p.protocol, nodeName);
      let seen = localReady.get(family);
      if (!seen) localReady.set(family, (seen = new Set()));
      for (const a of chosen.localReady) seen.add(a);
      const realServers = (pol: TrafficPolicy): readonly RealServer[] =>
        pol === 'Local' ? chosen.local : chosen.cluster;

      const add = (ip: Ip, at: number, kind: EntryKind, pol: TrafficPolicy, field: string) => {
        const ranges =
          kind === 'LoadBalancer' && entries.sourceRanges
            ? {
                sourceRanges: entries.sourceRanges
                  .filter((c) => c.family === family)
                  .map((c) => c.text)
                  .sort(),
              }
            : {};
        drafts.push({
          ip,
          kind,
          field,
          order: order++,
          vs: {
            key: virtualServerKey(p.protocol, ip.text, at),
            family,
            protocol: p.protocol,
            address: ip.text,
            port: at,
            scheduler: s.choice.scheduler,
            schedulerFlags: s.choice.flags,
            persistenceTimeout: s.persistence,
            netmask: family === 'IPv4' ? 32 : 128,
            trafficPolicy: pol,
            ...ranges,
            realServers: realServers(pol),
            owner: { namespace, name, portName: p.name, servicePort: p.port, kind },
          },
        });
      };
      add(entries.clusterIPs.get(family) as Ip, p.port, 'ClusterIP', s.internalPolicy, p.field);
      for (const e of entries.lbIPs)
        if (e.ip.family === family) add(e.ip, p.port, 'LoadBalancer', s.externalPolicy, e.field);
      for (const e of entries.externalIPs)
        if (e.ip.family === family) add(e.ip, p.port, 'ExternalIP', s.externalPolicy, e.field);
      if (p.nodePort !== undefined) {
        for (const ip of nodeIPs)
          if (ip.family === family)
            add(ip, p.nodePort, 'NodePort', s.externalPolicy, `${p.field}.nodePort`);
      }
    }
  }
  reportUnmatchedPorts(index, usedPorts, object, report);
  const virtualServers = assemble(drafts, object, report);
  warnDroppedLocal(virtualServers, nodeName, object, report);
  return done(virtualServers, healthCheckOf(entries, s, localReady, object, report));
}

/** A Local policy with no usable endpoint on this node drops the traffic, as kube-proxy does. */
function warnDroppedLocal(
  virtualServers: readonly VirtualServer[],
  nodeName: string,
  object: string,
  report: Report,
): void {
  for (const vs of virtualServers) {
    if (vs.trafficPolicy !== 'Local' || vs.realServers.length > 0) continue;
    const field =
      vs.owner.kind === 'ClusterIP' ? 'spec.internalTrafficPolicy' : 'spec.externalTrafficPolicy';
    report.warn(
      object,
      field,
      `Local, and no usable endpoint of port ${show(vs.owner.portName)} on node ${show(nodeName)}: traffic to ${vs.key} is dropped`,
    );
  }
}

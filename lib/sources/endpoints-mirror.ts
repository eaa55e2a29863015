// Endpoints → EndpointSlices, as the EndpointSlice mirroring controller
// (kube-controller-manager, pkg/controller/endpointslicemirroring) writes them:
//  - only for a Service that exists and has no selector (selector Services get their
//    slices from the EndpointSlice controller), and not when the Endpoints carries the
//    label endpointslice.kubernetes.io/skip-mirror=true or a leader-election annotation;
//  - one slice per (address family, port set); subsets with the same ports share a slice;
//  - addresses → ready: true, notReadyAddresses → ready: false; nodeName, hostname and
//    targetRef carried over; invalid IPs skipped; at most 1000 addresses per subset;
//  - labels copied, plus kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by;
//    annotations copied except last-change-trigger-time and last-applied-configuration.
// The controller names slices with generateName; here the name is derived from the port set
// and family, so the same input always gives the same slice.
import { createHash } from 'node:crypto';
import type {
  DiscoveryV1EndpointPort,
  V1Endpoint,
  V1EndpointAddress,
  V1EndpointSlice,
  V1Endpoints,
  V1Service,
} from '@kubernetes/client-node';
import { parseIp } from '../net/ip.js';
import { SERVICE_NAME_LABEL } from './sink.js';

export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MIRROR_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';
const DROPPED_ANNOTATIONS = [
  'endpoints.kubernetes.io/last-change-trigger-time',
  'kubectl.kubernetes.io/last-applied-configuration',
];
/** The controller's default mirroringMaxEndpointsPerSubset. */
export const MAX_ENDPOINTS_PER_SUBSET = 1000;

export interface MirrorResult {
  slices: V1EndpointSlice[];
  /** Why addresses were left out (invalid IP, over the per-subset limit). */
  notes: string[];
}

/** Why the controller would not mirror this Endpoints object, or undefined if it would. */
export function mirrorRefusal(
  endpoints: V1Endpoints,
  service: V1Service | undefined,
): string | undefined {
  if (endpoints.metadata?.labels?.[SKIP_MIRROR_LABEL] === 'true') {
    return `label ${SKIP_MIRROR_LABEL}=true`;
  }
  if (endpoints.metadata?.annotations?.[LEADER_ANNOTATION] !== undefined) {
    return 'it is a leader-election record';
  }
  if (!service) return 'no Service of that name';
  if (service.spec?.selector !== undefined && service.spec.selector !== null) {
    return 'its Service has a selector (the EndpointSlice controller owns its slices)';
  }
  return undefined;
}

function convertPorts(endpoints: V1Endpoints, i: number): DiscoveryV1EndpointPort[] {
  const ports = endpoints.subsets?.[i]?.ports ?? [];
  return ports.map((p) => ({
    name: p.name ?? '',
    port: p.port,
    // The API server defaults an Endpoints port's protocol to TCP.
    protocol: p.protocol ?? 'TCP',
    ...(p.appProtocol !== undefined ? { appProtocol: p.appProtocol } : {}),
  }));
}

function portSetKey(ports: readonly DiscoveryV1EndpointPort[]): string {
  const sorted = [...ports]
    .map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? '', p.appProtocol ?? ''] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  return JSON.stringify(sorted);
}

function toEndpoint(a: V1EndpointAddress, ready: boolean, text: string): V1Endpoint {
  return {
    addresses: [text],
    conditions: { ready },
    ...(a.targetRef !== undefined ? { targetRef: a.targetRef } : {}),
    ...(a.nodeName !== undefined ? { nodeName: a.nodeName } : {}),
    ...(a.hostname !== undefined && a.hostname !== '' ? { hostname: a.hostname } : {}),
  };
}

interface Group {
  addressType: 'IPv4' | 'IPv6';
  ports: DiscoveryV1EndpointPort[];
  endpoints: Map<string, V1Endpoint>;
}

/** The EndpointSlices the mirroring controller would write for this Endpoints object. */
export function mirrorEndpoints(
  endpoints: V1Endpoints,
  maxPerSubset = MAX_ENDPOINTS_PER_SUBSET,
): MirrorResult {
  const ns = endpoints.metadata?.namespace ?? 'default';
  const name = endpoints.metadata?.name ?? '';
  const notes: string[] = [];
  const groups = new Map<string, Group>();
  (endpoints.subsets ?? []).forEach((subset, i) => {
    const ports = convertPorts(endpoints, i);
    const pkey = portSetKey(ports);
    let added = 0;
    let skipped = 0;
    const take = (list: readonly V1EndpointAddress[] | undefined, ready: boolean): void => {
      for (const a of list ?? []) {
        if (added >= maxPerSubset) {
          skipped++;
          continue;
        }
        const ip = parseIp(a.ip);
        if (!ip) {
          notes.push(
            `Endpoints ${ns}/${name}: address ${JSON.stringify(a.ip)} is not a valid IP, not mirrored`,
          );
          continue;
        }
        const key = `${ip.family}|${pkey}`;
        let g = groups.get(key);
        if (!g) {
          g = { addressType: ip.family, ports, endpoints: new Map() };
          groups.set(key, g);
        }
        g.ports = ports;
        // An EndpointSet: the same endpoint twice is kept once.
        const ep = toEndpoint(a, ready, ip.text);
        g.endpoints.set(JSON.stringify(ep), ep);
        added++;
      }
    };
    take(subset.addresses, true);
    take(subset.notReadyAddresses, false);
    if (skipped > 0) {
      notes.push(
        `Endpoints ${ns}/${name}: subset ${i} has more than ${maxPerSubset} addresses; ${skipped} not mirrored`,
      );
    }
  });

  const labels: Record<string, string> = { ...(endpoints.metadata?.labels ?? {}) };
  labels[SERVICE_NAME_LABEL] = name;
  labels[MANAGED_BY_LABEL] = MIRROR_CONTROLLER_NAME;
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(endpoints.metadata?.annotations ?? {})) {
    if (!DROPPED_ANNOTATIONS.includes(k)) annotations[k] = v;
  }
  const slices: V1EndpointSlice[] = [];
  for (const [key, g] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (g.endpoints.size === 0) continue;
    const suffix = createHash('sha256').update(key).digest('hex').slice(0, 5);
    slices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        namespace: ns,
        name: `${name}-${suffix}`,
        labels: { ...labels },
        ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
      },
      addressType: g.addressType,
      ports: g.ports,
      endpoints: [...g.endpoints.values()].slice(0, maxPerSubset),
    });
  }
  return { slices, notes };
}

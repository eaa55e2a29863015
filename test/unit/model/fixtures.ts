// Builders for the test fixture in docs/behaviour.md: nodes node-a/b/c, pods a1
// (10.244.1.5 on node-a) and b1 (10.244.2.5 on node-b), Service svc-web at 10.0.170.92.
import type { V1EndpointSlice, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { defaultConfig, type KubeIpvsConfig } from '../../../lib/config/index.js';
import type { NodeContext, VirtualServer } from '../../../lib/model/index.js';

export const NODE_A: NodeContext = { name: 'node-a', addresses: ['192.168.10.11', '127.0.0.1'] };
export const NODE_B: NodeContext = { name: 'node-b', addresses: ['192.168.10.12', '127.0.0.1'] };
export const NODE_C: NodeContext = { name: 'node-c', addresses: ['192.168.10.13', '127.0.0.1'] };

export function config(overrides: Partial<KubeIpvsConfig> = {}): KubeIpvsConfig {
  return { ...defaultConfig(), ...overrides };
}

export interface SvcOptions {
  name?: string;
  namespace?: string;
  spec?: V1Service['spec'];
  status?: V1Service['status'];
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export function svc(o: SvcOptions = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: o.name ?? 'svc-web',
      namespace: o.namespace ?? 'default',
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.labels ? { labels: o.labels } : {}),
    },
    spec: {
      clusterIP: '10.0.170.92',
      clusterIPs: ['10.0.170.92'],
      selector: { app: 'source-ip-app' },
      ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
      ...o.spec,
    },
    ...(o.status ? { status: o.status } : {}),
  };
}

export interface Ep {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export function slice(
  eps: Ep[],
  ports: { name?: string; port: number; protocol?: string }[] = [{ port: 8080 }],
  o: { name?: string; service?: string; namespace?: string; addressType?: string } = {},
): V1EndpointSlice {
  const service = o.service ?? 'svc-web';
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: o.name ?? `${service}-abc`,
      namespace: o.namespace ?? 'default',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: o.addressType ?? (eps[0]?.ip.includes(':') ? 'IPv6' : 'IPv4'),
    ports: ports.map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' })),
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      ...(e.node ? { nodeName: e.node } : {}),
      conditions: {
        ...(e.ready !== undefined ? { ready: e.ready } : {}),
        ...(e.serving !== undefined ? { serving: e.serving } : {}),
        ...(e.terminating !== undefined ? { terminating: e.terminating } : {}),
      },
    })),
  };
}

export const A1: Ep = { ip: '10.244.1.5', node: 'node-a' };
export const B1: Ep = { ip: '10.244.2.5', node: 'node-b' };

/** "TCP 10.0.170.92:80 rr" → ["10.244.1.5:8080", …] — compact view for assertions. */
export function table(vss: readonly VirtualServer[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of vss) {
    const addr = v.family === 'IPv6' ? `[${v.address}]` : v.address;
    out[`${v.protocol} ${addr}:${v.port}`] = v.realServers.map((r) =>
      r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`,
    );
  }
  return out;
}

export function port(p: V1ServicePort): V1ServicePort {
  return p;
}

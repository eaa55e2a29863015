// The bench's cluster: Service i is a ClusterIP 10.100.x.y:80 (TCP, rr) whose one
// EndpointSlice holds DESTS ready endpoints 10.(200+j).x.y:8080. The same rules in
// ipvsadm's restore syntax are the `ipvsadm -R` anchor.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject, TestApiServer } from '../../test/fixtures/apiserver/index.js';

export const NAMESPACE = 'bench';
/** The node the bench's daemon runs as. */
export const NODE = 'bench-node';
export const SERVICE_PORT = 80;
export const TARGET_PORT = 8080;

const low = (i: number): string => `${(i >> 8) & 0xff}.${i & 0xff}`;

export function vip(i: number): string {
  return `10.${100 + (i >> 16)}.${low(i)}`;
}

/** Endpoint j of Service i; j ≥ DESTS are the ones the update phase adds. */
export function endpoint(i: number, j: number): string {
  if (i >= 1 << 16 || j >= 50) throw new Error(`endpoint(${i}, ${j}) out of range`);
  return `10.${200 + j}.${low(i)}`;
}

export function serviceObject(i: number): KubeObject {
  return {
    metadata: { namespace: NAMESPACE, name: `svc-${i}` },
    spec: {
      type: 'ClusterIP',
      clusterIP: vip(i),
      clusterIPs: [vip(i)],
      ports: [{ name: 'http', port: SERVICE_PORT, targetPort: TARGET_PORT, protocol: 'TCP' }],
    },
  };
}

export function sliceObject(i: number, endpoints: readonly string[]): KubeObject {
  return {
    metadata: {
      namespace: NAMESPACE,
      name: `svc-${i}-1`,
      labels: { 'kubernetes.io/service-name': `svc-${i}` },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: TARGET_PORT, protocol: 'TCP' }],
    endpoints: endpoints.map((a) => ({ addresses: [a], conditions: { ready: true } })),
  };
}

export function restoreInput(services: number, dests: number): string {
  const lines: string[] = [];
  for (let i = 0; i < services; i++) {
    const v = `${vip(i)}:${SERVICE_PORT}`;
    lines.push(`-A -t ${v} -s rr`);
    for (let j = 0; j < dests; j++)
      lines.push(`-a -t ${v} -r ${endpoint(i, j)}:${TARGET_PORT} -m -w 1`);
  }
  return lines.join('\n') + '\n';
}

export interface BenchCluster {
  /** Endpoints of Service i, as its slice holds them. */
  endpoints: string[][];
  kubeconfig: string;
  config: string;
}

/**
 * Fills the test API server with SERVICES × DESTS and writes, in `dir`, the kubeconfig and
 * the config file the daemon runs with.
 */
export function seedCluster(
  api: TestApiServer,
  dir: string,
  services: number,
  dests: number,
): BenchCluster {
  const endpoints: string[][] = [];
  for (let i = 0; i < services; i++) {
    endpoints.push(Array.from({ length: dests }, (_, j) => endpoint(i, j)));
    api.create('services', serviceObject(i));
    api.create('endpointslices', sliceObject(i, endpoints[i] ?? []));
  }
  api.create('nodes', { metadata: { name: NODE } });
  const kubeconfig = api.writeKubeconfig(join(dir, 'kubeconfig'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    'apiVersion: kube-ipvs.io/v1alpha1\nkind: KubeIpvsConfiguration\n' +
      // No periodic resync in the way of the measured ones; every change synced at once.
      'minSyncPeriod: 0s\nsyncPeriod: 1h\n',
  );
  return { endpoints, kubeconfig, config };
}

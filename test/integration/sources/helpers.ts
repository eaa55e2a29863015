// Shared by the source integration tests: object builders and a wait-until helper.
import type { KubeObject } from '../../fixtures/apiserver/index.js';

export function service(
  ns: string,
  name: string,
  clusterIP: string,
  port = 80,
  targetPort = 8080,
): KubeObject {
  return {
    metadata: { namespace: ns, name },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ports: [{ name: 'http', port, targetPort, protocol: 'TCP' }],
    },
  };
}

export function slice(
  ns: string,
  name: string,
  svc: string,
  addresses: string[],
  port = 8080,
  ready = true,
): KubeObject {
  return {
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready } })),
  };
}

export function node(name: string, address: string): KubeObject {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { addresses: [{ type: 'InternalIP', address }] },
  };
}

export async function waitFor(
  what: string,
  cond: () => boolean,
  timeoutMs = 10000,
  stepMs = 20,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

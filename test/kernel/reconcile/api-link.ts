// The test API server for a daemon in the lab's node namespace: served by this process in
// UML's root namespace, over a veth pair whose node end is link-scoped (so kube-ipvs does
// not take it for a NodePort address). The node's end is also how this process reaches the
// daemon's own servers (/metrics, /healthz, health-check node ports).
import { TestApiServer } from '../../fixtures/apiserver/index.js';
import { run } from '../../harness/exec.js';
import type { Lab } from '../../harness/topology.js';

export const API_ROOT = { dev: 'kipvs-api0', address: '169.254.77.1' };
export const API_NODE = { dev: 'kipvs-api1', address: '169.254.77.2' };

/** Links the node namespace to a new test API server; resolves once the node reaches it. */
export async function connectApiServer(lab: Lab): Promise<TestApiServer> {
  await run('ip', ['link', 'add', API_ROOT.dev, 'type', 'veth', 'peer', 'name', API_NODE.dev]);
  await run('ip', ['link', 'set', API_NODE.dev, 'netns', lab.node.name]);
  await run('ip', ['addr', 'add', `${API_ROOT.address}/30`, 'dev', API_ROOT.dev]);
  await run('ip', ['link', 'set', API_ROOT.dev, 'up']);
  await lab.node.ip([
    'addr',
    'add',
    `${API_NODE.address}/30`,
    'dev',
    API_NODE.dev,
    'scope',
    'link',
  ]);
  await lab.node.up(API_NODE.dev);
  const api = await TestApiServer.start({ host: API_ROOT.address });
  // The node namespace reaches it once the new link is up (bounded: 50 tries).
  const probe = `fetch('${api.url}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  for (let i = 0; ; i++) {
    const ok = await lab.node.exec(process.execPath, ['-e', probe], { timeoutMs: 5000 }).then(
      () => true,
      () => false,
    );
    if (ok) return api;
    if (i >= 50) throw new Error(`the API server at ${api.url} is unreachable from the node`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Closes the server and removes the link (deleting the root end removes its peer too). */
export async function disconnectApiServer(api: TestApiServer | undefined): Promise<void> {
  await api?.close();
  await run('ip', ['link', 'del', API_ROOT.dev]).catch(() => undefined);
}

/** The Node object of the lab's node, named `name`, its InternalIP the node's client-link address. */
export function createLabNode(api: TestApiServer, lab: Lab, name: string): void {
  api.create('nodes', {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { addresses: [{ type: 'InternalIP', address: lab.nodeAddress }] },
  });
}

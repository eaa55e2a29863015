// A cluster-shaped network in one kernel for traffic tests (docs/architecture.md):
//
//   client ns ── veth ── node ns ── bridge br0 ── veth ── backend ns 1..N
//   198.51.100.79        198.51.100.1   10.244.0.1          10.244.0.11, .12, ...
//
// The node namespace forwards, holds the VIP device (dummy kube-ipvs0) and, with IPVS,
// is where virtual services live; backends and the client route via the node, so IPVS
// NAT (masquerade) replies pass back through it and the client's address is preserved.
import { run } from './exec.js';
import { Netns, vethPair } from './netns.js';

export interface LabBackend {
  name: string;
  ns: Netns;
  address: string;
}

export interface Lab {
  node: Netns;
  client: Netns;
  clientAddress: string;
  /** The node's address on the client link. */
  nodeAddress: string;
  podGateway: string;
  /** Dummy device in the node namespace for VIPs (IPVS only answers local addresses). */
  vipDevice: string;
  backends: LabBackend[];
  destroy(): Promise<void>;
}

export interface LabOptions {
  backends?: number;
  /** Load ip_vs and turn on net.ipv4.vs.conntrack in the node namespace; default true. */
  ipvs?: boolean;
}

export async function buildLab(options: LabOptions = {}): Promise<Lab> {
  const count = options.backends ?? 3;
  if (count < 0 || count > 200) throw new Error(`backends out of range: ${count}`);
  const created: Netns[] = [];
  const destroy = async (): Promise<void> => {
    const errors: string[] = [];
    for (const ns of created.reverse()) {
      try {
        await ns.delete();
      } catch (err) {
        errors.push(String(err));
      }
    }
    if (errors.length > 0) throw new Error(errors.join('\n'));
  };
  try {
    const node = await Netns.create('node');
    created.push(node);
    await node.sysctl('net.ipv4.ip_forward', 1);
    if (options.ipvs !== false) {
      await run('modprobe', ['ip_vs']);
      await node.sysctl('net.ipv4.vs.conntrack', 1);
    }
    const vipDevice = 'kube-ipvs0';
    await node.addDummy(vipDevice);

    const client = await Netns.create('client');
    created.push(client);
    const clientAddress = '198.51.100.79';
    const nodeAddress = '198.51.100.1';
    await vethPair(node, 'eth-client', client, 'eth0');
    await node.addAddress('eth-client', `${nodeAddress}/24`);
    await client.addAddress('eth0', `${clientAddress}/24`);
    await client.addRoute('default', { via: nodeAddress });

    const podGateway = '10.244.0.1';
    await node.addBridge('br0');
    await node.addAddress('br0', `${podGateway}/24`);
    const backends: LabBackend[] = [];
    for (let i = 1; i <= count; i++) {
      const name = `backend-${i}`;
      const ns = await Netns.create(name);
      created.push(ns);
      const address = `10.244.0.${10 + i}`;
      await vethPair(node, `vb${i}`, ns, 'eth0');
      await node.attachToBridge(`vb${i}`, 'br0');
      await ns.addAddress('eth0', `${address}/24`);
      await ns.addRoute('default', { via: podGateway });
      backends.push({ name, ns, address });
    }
    return {
      node,
      client,
      clientAddress,
      nodeAddress,
      podGateway,
      vipDevice,
      backends,
      destroy,
    };
  } catch (err) {
    await destroy().catch(() => undefined);
    throw err;
  }
}

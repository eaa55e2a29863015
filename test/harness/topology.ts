// A cluster-shaped network in one kernel for traffic tests (docs/architecture.md):
//
//   client ns ── veth ── node ns ── bridge br0 ── veth ── backend ns 1..N
//   198.51.100.79        198.51.100.1   10.244.0.1          10.244.0.11, .12, ...
//
// The node namespace forwards, holds the VIP device (dummy kube-ipvs0) and, with IPVS,
// is where virtual services live; backends and the client route via the node, so IPVS
// NAT (masquerade) replies pass back through it and the client's address is preserved.
//
// `pods: 'routed'` builds the same addresses from link types the host kernel has (it has
// no bridge and no dummy): each backend on its own veth with a host route, 10.244.0.1 on
// the first of them (the node answers ARP for it on every link), no kube-ipvs0, a
// default route from the node to the client (the outside world), and IPv6 beside IPv4:
//
//   client fd00:c::79 ── node fd00:c::1 ── veth (gateway fe80::1) ── backend fd00:a::1N
import { run } from './exec.js';
import { Netns, vethPair } from './netns.js';

export interface LabBackend {
  name: string;
  ns: Netns;
  address: string;
  /** Routed labs only. */
  address6?: string;
}

export interface Lab {
  node: Netns;
  client: Netns;
  clientAddress: string;
  /** The node's address on the client link. */
  nodeAddress: string;
  podGateway: string;
  /** Dummy device in the node namespace for VIPs (IPVS only answers local addresses); bridge labs only. */
  vipDevice: string;
  /** Routed labs: the IPv6 addresses of the client and the node's on the client link. */
  clientAddress6?: string;
  nodeAddress6?: string;
  backends: LabBackend[];
  destroy(): Promise<void>;
}

export interface LabOptions {
  backends?: number;
  /** Load ip_vs and turn on net.ipv4.vs.conntrack in the node namespace; default true. */
  ipvs?: boolean;
  /** 'bridge' (default, UML) or 'routed' (the host kernel: veth only, dual-stack). */
  pods?: 'bridge' | 'routed';
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
    const routed = options.pods === 'routed';
    const vipDevice = 'kube-ipvs0';
    if (!routed) await node.addDummy(vipDevice);

    const client = await Netns.create('client');
    created.push(client);
    const clientAddress = '198.51.100.79';
    const nodeAddress = '198.51.100.1';
    await vethPair(node, 'eth-client', client, 'eth0');
    await node.addAddress('eth-client', `${nodeAddress}/24`);
    await client.addAddress('eth0', `${clientAddress}/24`);
    await client.addRoute('default', { via: nodeAddress });
    if (routed)
      return await routedPods(node, client, count, {
        clientAddress,
        nodeAddress,
        vipDevice,
        created,
        destroy,
      });

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

/** The pods of a routed lab (see the top of this file). */
async function routedPods(
  node: Netns,
  client: Netns,
  count: number,
  l: {
    clientAddress: string;
    nodeAddress: string;
    vipDevice: string;
    created: Netns[];
    destroy: () => Promise<void>;
  },
): Promise<Lab> {
  const clientAddress6 = 'fd00:c::79';
  const nodeAddress6 = 'fd00:c::1';
  await node.sysctl('net.ipv6.conf.all.forwarding', 1);
  await node.addAddress('eth-client', `${nodeAddress6}/64`);
  await client.addAddress('eth0', `${clientAddress6}/64`);
  await client.addRoute('default', { via: nodeAddress6 });
  await node.addRoute('default', { via: l.clientAddress });
  // Traffic the node sends back where it came from (to the client, its default route)
  // would draw ICMP redirects, which use up the per-host ICMP rate limit before a REJECT's
  // port-unreachable; a node's default route leads elsewhere.
  await node.sysctl('net.ipv4.conf.all.send_redirects', 0);
  await node.sysctl('net.ipv4.conf.eth-client.send_redirects', 0);
  await node.addRoute('default', { via: clientAddress6 });
  const podGateway = '10.244.0.1';
  const backends: LabBackend[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `backend-${i}`;
    const ns = await Netns.create(name);
    l.created.push(ns);
    const address = `10.244.0.${10 + i}`;
    const address6 = `fd00:a::${10 + i}`;
    const dev = `vb${i}`;
    await vethPair(node, dev, ns, 'eth0');
    if (i === 1) await node.addAddress(dev, `${podGateway}/32`);
    await node.addAddress(dev, 'fe80::1/64');
    await node.addRoute(`${address}/32`, { dev });
    await node.addRoute(`${address6}/128`, { dev });
    await ns.addAddress('eth0', `${address}/24`);
    await ns.addAddress('eth0', `${address6}/64`);
    await ns.ip(['route', 'add', 'default', 'via', podGateway]);
    await ns.ip(['-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'eth0']);
    backends.push({ name, ns, address, address6 });
  }
  return {
    node,
    client,
    clientAddress: l.clientAddress,
    nodeAddress: l.nodeAddress,
    clientAddress6,
    nodeAddress6,
    podGateway,
    vipDevice: l.vipDevice,
    backends,
    destroy: l.destroy,
  };
}

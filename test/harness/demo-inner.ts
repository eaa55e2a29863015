// What `npm run demo` runs inside UML: a node namespace with three echo backends and a
// client, a Service programmed through the project's IPVS bindings (IpvsClient, not
// ipvsadm), `ipvsadm -Ln` to show what the kernel holds, and traffic through the VIP.
// The programming step runs as this same script with --program inside the node
// namespace, because IPVS state belongs to the namespace of the netlink socket.
import { fileURLToPath } from 'node:url';
import { AF_INET, IpvsClient, type IpvsService } from '../../bindings/ipvs/index.js';
import { runClient } from './client.js';
import { startEcho, stopAllEcho } from './echo.js';
import { assertInUml } from './in-uml.js';
import { deleteAllNetns } from './netns.js';
import { buildLab } from './topology.js';

const vip = '10.96.0.10';
const backendTcp = 8080;
const backendUdp = 5353;

function service(protocol: 6 | 17, port: number): IpvsService {
  return {
    family: AF_INET,
    protocol,
    address: vip,
    port,
    fwmark: 0,
    scheduler: 'rr',
    flags: 0,
    timeout: 0,
    netmask: 0xffffffff,
    peName: '',
  };
}

async function program(backends: string[]): Promise<void> {
  const client = await IpvsClient.open();
  try {
    for (const [protocol, port, target] of [
      [6, 80, backendTcp],
      [17, 53, backendUdp],
    ] as const) {
      const svc = service(protocol, port);
      await client.addService(svc);
      for (const address of backends) {
        await client.addDestination(svc, {
          family: AF_INET,
          address,
          port: target,
          forward: 0,
          weight: 1,
          upperThreshold: 0,
          lowerThreshold: 0,
          tunType: 0,
          tunPort: 0,
          tunFlags: 0,
        });
      }
    }
    const services = await client.getServices();
    console.log(`IpvsClient reads back ${services.length} services:`);
    for (const s of services) {
      const dests = await client.getDestinations(s);
      console.log(`  ${s.protocol === 6 ? 'TCP' : 'UDP'} ${s.address}:${s.port} ${s.scheduler}`);
      for (const d of dests) console.log(`    -> ${d.address}:${d.port} weight ${d.weight}`);
    }
  } finally {
    client.close();
  }
}

async function demo(): Promise<void> {
  assertInUml();
  console.log('== building namespaces: node, client 198.51.100.79, backends 10.244.0.11-13');
  const lab = await buildLab({ backends: 3 });
  try {
    await lab.node.addAddress(lab.vipDevice, `${vip}/32`);
    for (const b of lab.backends) {
      await startEcho(b.ns, { name: b.name, tcpPort: backendTcp, udpPort: backendUdp });
    }
    console.log(`\n== programming TCP ${vip}:80 and UDP ${vip}:53 (rr, NAT) through IpvsClient`);
    const self = fileURLToPath(import.meta.url);
    const addresses = lab.backends.map((b) => b.address);
    const programmed = await lab.node.node(self, ['--program', ...addresses]);
    process.stdout.write(programmed.stdout);

    console.log('\n== ipvsadm -Ln in the node namespace');
    process.stdout.write((await lab.node.exec('ipvsadm', ['-Ln'])).stdout);

    for (const [proto, port] of [
      ['tcp', 80],
      ['udp', 53],
    ] as const) {
      const r = await runClient(lab.client, { proto, target: vip, port, count: 6 });
      console.log(
        `\n== ${r.attempted} ${proto.toUpperCase()} requests from the client to ${vip}:${port}`,
      );
      console.log(`answered ${r.answered}, failed ${r.failed}`);
      for (const [name, n] of Object.entries(r.byBackend).sort()) {
        console.log(`  ${name}: ${n} (saw client ${(r.clientSeen[name] ?? []).join(', ')})`);
      }
      if (r.answered !== r.attempted) throw new Error(`${proto}: ${JSON.stringify(r.errors)}`);
    }
    // The 6.1 kernel folds per-CPU counters into the shown totals on its 2 s estimator tick.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    console.log('\n== ipvsadm -Ln --stats');
    process.stdout.write((await lab.node.exec('ipvsadm', ['-Ln', '--stats'])).stdout);
  } finally {
    await stopAllEcho();
    await deleteAllNetns();
  }
}

const [mode, ...rest] = process.argv.slice(2);
(mode === '--program' ? program(rest) : demo()).catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});

// Runs one scenario of the IPVS binding tests inside a network namespace (IPVS state is
// per netns; node cannot enter one itself, so the test starts this script under
// `ip netns exec`). Prints one JSON document (bigints as strings) on stdout.
import { createSocket } from 'node:dgram';
import { IpvsClient, type IpvsOp } from '../../../bindings/ipvs/client.js';
import * as C from '../../../bindings/ipvs/constants.js';
import { AF_INET, type IpvsDestination, type IpvsService } from '../../../bindings/ipvs/types.js';
import { DEFAULT_MAX_BATCH_MESSAGES } from '../../../bindings/netlink/connection.js';
import { TABLE } from './fixture.js';
import { must } from './must.js';

interface Dumped {
  service: IpvsService;
  destinations: IpvsDestination[];
}

async function dumpAll(c: IpvsClient): Promise<Dumped[]> {
  // Two sockets: exercises the parallel destination dumps.
  return c.dumpAll(2);
}

function svcN(i: number): IpvsService {
  return {
    family: AF_INET,
    protocol: C.IPPROTO_TCP,
    address: `10.97.${(i >> 8) & 0xff}.${i & 0xff}`,
    port: 80,
    fwmark: 0,
    scheduler: 'rr',
    flags: 0,
    timeout: 0,
    netmask: 0xffffffff,
    peName: '',
  };
}

function result(r: { ok: true } | { ok: false; error: Error }): unknown {
  if (r.ok) return 'ok';
  const e = r.error as Error & { code?: string; extAck?: string };
  return { name: e.name, code: e.code, message: e.message };
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return result({ ok: false, error: e as Error });
  }
}

// The overrun needs its own client with a tiny receive buffer.
async function overrunWith(c: IpvsClient): Promise<unknown> {
  // One datagram of 600 NEW_SERVICEs, every one ACKed, into the smallest receive
  // buffer: the kernel applies them all but must drop most ACKs.
  const ops: IpvsOp[] = Array.from({ length: 600 }, (_, i) => ({
    op: 'addService',
    service: svcN(i + 100),
  }));
  const rs = await c.connection.batch(
    ops.map((op) => c.opRequest(op)),
    'every',
  );
  const counts: Record<string, number> = {};
  for (const r of rs) {
    const k = r.ok ? 'ok' : r.error.name;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  const services = await c.getServices();
  return { counts, overruns: c.connection.overruns, redumped: services.length };
}

const scenarios: Record<string, (c: IpvsClient) => Promise<unknown>> = {
  async program(c) {
    for (const e of TABLE) {
      await c.addService(e.service);
      for (const d of e.destinations) await c.addDestination(e.service, d);
    }
    return { entries: await dumpAll(c) };
  },

  async dump(c) {
    return { entries: await dumpAll(c) };
  },

  async readers(c) {
    return {
      info: await c.getInfo(),
      timeouts: await c.getTimeouts(),
      daemons: await c.getDaemons(),
      present: await c.getService(must(TABLE[0]).service),
      absent: await c.getService({ ...must(TABLE[0]).service, port: 1 }),
    };
  },

  async update(c) {
    const [a, b] = [must(TABLE[0]), must(TABLE[1])];
    await c.updateService({ ...a.service, scheduler: 'wlc', timeout: 600, netmask: 0xffff0000 });
    await c.updateDestination(a.service, {
      ...must(a.destinations[0]),
      weight: 9,
      upperThreshold: 5,
    });
    await c.deleteDestination(a.service, {
      address: must(a.destinations[1]).address,
      port: must(a.destinations[1]).port,
    });
    await c.deleteService(b.service);
    return {
      entries: await dumpAll(c),
      errors: {
        deleteMissingService: await errorOf(c.deleteService(b.service)),
        addDuplicateService: await errorOf(c.addService(a.service)),
        updateMissingDest: await errorOf(
          c.updateDestination(a.service, { ...must(a.destinations[1]) }),
        ),
        unknownScheduler: await errorOf(
          c.addService({ ...a.service, port: 1, scheduler: 'nosuch' }),
        ),
      },
    };
  },

  async batch(c) {
    const s1 = svcN(1);
    const s2 = svcN(2);
    const d = (addr: string): IpvsDestination => ({
      family: AF_INET,
      address: addr,
      port: 8080,
      forward: 0,
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunType: 0,
      tunPort: 0,
      tunFlags: 0,
    });
    const ops: IpvsOp[] = [
      { op: 'addService', service: s1 },
      { op: 'addDestination', service: s1, destination: d('10.1.1.1') },
      { op: 'addService', service: s1 },
      { op: 'addService', service: s2 },
      { op: 'addDestination', service: svcN(3), destination: d('10.1.1.2') },
      { op: 'addDestination', service: s2, destination: d('10.1.1.3') },
      { op: 'deleteService', service: svcN(4) },
      { op: 'addDestination', service: s2, destination: d('10.1.1.4') },
    ];
    const results = (await c.apply(ops)).map(result);
    return { results, entries: await dumpAll(c) };
  },

  async overrun() {
    // One datagram of 600 NEW_SERVICEs, every one ACKed, into the smallest receive
    // buffer: the kernel applies them all but must drop most ACKs.
    // 600 messages is under the addon's per-turn datagram limit (the largest batch allowed).
    const c = await IpvsClient.open({
      receiveBuffer: 1,
      replyCost: 1,
      maxBatchMessages: DEFAULT_MAX_BATCH_MESSAGES,
    });
    try {
      return await overrunWith(c);
    } finally {
      c.close();
    }
  },

  async timeouts(c) {
    const before = await c.getTimeouts();
    await c.setTimeouts({ tcp: 1000, udp: 200 });
    const mid = await c.getTimeouts();
    await c.setTimeouts({ tcpFin: 30 });
    return { before, mid, after: await c.getTimeouts() };
  },

  async traffic(c) {
    // UDP to a VIP whose real server is a local address: IPVS counts what it schedules.
    const svc: IpvsService = {
      ...svcN(0),
      protocol: C.IPPROTO_UDP,
      address: '10.96.9.9',
      port: 5000,
    };
    await c.addService(svc);
    await c.addDestination(svc, {
      family: AF_INET,
      address: '10.1.0.1',
      port: 5001,
      forward: 0,
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunType: 0,
      tunPort: 0,
      tunFlags: 0,
    });
    const sock = createSocket('udp4');
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((res, rej) =>
        sock.send(Buffer.alloc(100 + i), 5000, '10.96.9.9', (e) => (e ? rej(e) : res())),
      );
    }
    sock.close();
    // Per-CPU counters reach the totals on the estimator's 2 s tick.
    await new Promise((r) => setTimeout(r, 2500));
    const [s] = (await c.getServices()).filter((x) => x.address === '10.96.9.9');
    const [d] = await c.getDestinations(svc);
    return { service: s, destination: d };
  },

  async zero(c) {
    await c.zero();
    return { entries: await dumpAll(c) };
  },

  async daemons(c) {
    return { daemons: await c.getDaemons() };
  },

  async flush(c) {
    await c.flush();
    return { services: await c.getServices() };
  },
};

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const fn = scenarios[name];
  if (!fn) throw new Error(`unknown scenario ${name}`);
  const c = await IpvsClient.open();
  try {
    const out = await fn(c);
    process.stdout.write(
      JSON.stringify(out, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n',
    );
  } finally {
    c.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

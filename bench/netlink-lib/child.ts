// One timed IPVS programming or dump run, started by bench/netlink.ts under
// `ip netns exec` (IPVS state is per netns). Prints {"seconds": N, ...} as JSON.
import { IpvsClient, type IpvsOp } from '../../bindings/ipvs/client.js';
import { AF_INET, type IpvsDestination, type IpvsService } from '../../bindings/ipvs/types.js';
import type { AckMode } from '../../bindings/netlink/connection.js';

export function service(i: number): IpvsService {
  return {
    family: AF_INET,
    protocol: 6,
    address: `10.${100 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}`,
    port: 80,
    fwmark: 0,
    scheduler: 'rr',
    flags: 0,
    timeout: 0,
    netmask: 0xffffffff,
    peName: '',
  };
}

export function destination(i: number, j: number): IpvsDestination {
  return {
    family: AF_INET,
    address: `10.${200 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}`,
    port: 8000 + j,
    forward: 0,
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunType: 0,
    tunPort: 0,
    tunFlags: 0,
  };
}

export function ops(services: number, dests: number): IpvsOp[] {
  const out: IpvsOp[] = [];
  for (let i = 0; i < services; i++) {
    const s = service(i);
    out.push({ op: 'addService', service: s });
    for (let j = 0; j < dests; j++)
      out.push({ op: 'addDestination', service: s, destination: destination(i, j) });
  }
  return out;
}

async function main(): Promise<void> {
  const [mode = '', sArg = '0', dArg = '0', batchArg = ''] = process.argv.slice(2);
  const services = Number(sArg);
  const dests = Number(dArg);
  const maxBatch = batchArg ? Number(batchArg) : undefined;
  const c = await IpvsClient.open({
    timeoutMs: 120_000,
    ...(maxBatch ? { maxBatchMessages: maxBatch } : {}),
  });
  try {
    const t0 = process.hrtime.bigint();
    let failed = 0;
    let count = 0;
    if (mode === 'single') {
      for (const op of ops(services, dests)) {
        await c.run(op);
        count++;
      }
    } else if (mode === 'batched-last' || mode === 'batched-every') {
      const ackMode: AckMode = mode === 'batched-last' ? 'last' : 'every';
      const all = ops(services, dests);
      const rs = await c.connection.batch(
        all.map((op) => c.opRequest(op)),
        ackMode,
      );
      failed = rs.filter((r) => !r.ok).length;
      count = rs.length;
    } else if (mode === 'dump' || mode === 'dump-stats') {
      // 'dump' reads what a resync compares (and what ipvsadm -Ln prints): no counters.
      const stats = mode === 'dump-stats';
      for (const s of await c.getServices({ stats })) {
        count += 1 + (await c.getDestinations(s, { stats })).length;
      }
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    process.stdout.write(
      JSON.stringify({
        seconds,
        count,
        failed,
        maxMessagesPerDatagram: c.connection.maxMessagesPerDatagram(),
        maxDatagramBytes: c.connection.maxDatagramBytes(),
      }) + '\n',
    );
  } finally {
    c.close();
  }
}

if (process.argv[1]?.endsWith('child.js')) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}

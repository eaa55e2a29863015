// `npm run bench -- netlink [SERVICES DESTS REPS]`: programs SERVICES TCP services ×
// DESTS real servers (default 10 000 × 10) into IPVS (a) with `ipvsadm -R`, (b) with the
// bindings one round trip per op, (c) with the bindings batched (NLM_F_ACK only on the
// last message of each datagram; also measured with an ACK on every message), each in a
// fresh netns of one UML boot pinned to one CPU; then dumps with the bindings and with
// `ipvsadm -Ln`. Prints medians and writes bench/results/netlink.json.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchMain } from './lib/main.js';
import { dropNs, freshNs as freshNamedNs, median, must, report, timed } from './lib/run.js';
import { destination, service } from './netlink-lib/child.js';

const freshNs = (): Promise<string> => freshNamedNs('bench-nl');

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'netlink-lib', 'child.js');

function restoreInput(services: number, dests: number): string {
  const lines: string[] = [];
  for (let i = 0; i < services; i++) {
    const s = service(i);
    lines.push(`-A -t ${s.address}:${s.port} -s rr`);
    for (let j = 0; j < dests; j++) {
      const d = destination(i, j);
      lines.push(`-a -t ${s.address}:${s.port} -r ${d.address}:${d.port} -m -w 1`);
    }
  }
  return lines.join('\n') + '\n';
}

interface Runs {
  ipvsadm_restore_s: number[];
  bindings_single_s: number[];
  bindings_batched_s: number[];
  bindings_batched_ack_every_s: number[];
  bindings_dump_s: number[];
  bindings_dump_with_stats_s: number[];
  ipvsadm_list_s: number[];
}

interface ChildOut {
  seconds: number;
  count: number;
  failed: number;
  maxMessagesPerDatagram: number;
  maxDatagramBytes: number;
}

async function runChild(ns: string, args: string[]): Promise<ChildOut> {
  const r = await must('ip', ['netns', 'exec', ns, process.execPath, child, ...args]);
  return JSON.parse(r.stdout) as ChildOut;
}

async function inner(services: number, dests: number, reps: number): Promise<void> {
  await must('modprobe', ['-a', 'ip_vs', 'ip_vs_rr']);
  const input = restoreInput(services, dests);
  const total = services * (1 + dests);
  const r: Runs = {
    ipvsadm_restore_s: [],
    bindings_single_s: [],
    bindings_batched_s: [],
    bindings_batched_ack_every_s: [],
    bindings_dump_s: [],
    bindings_dump_with_stats_s: [],
    ipvsadm_list_s: [],
  };
  let batchInfo: ChildOut | undefined;
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  for (let rep = 1; rep <= reps; rep++) {
    let ns = await freshNs();
    r.ipvsadm_restore_s.push(
      await timed(() => must('ip', ['netns', 'exec', ns, 'ipvsadm', '-R'], input)),
    );
    log(`rep ${rep}: ipvsadm -R ${r.ipvsadm_restore_s.at(-1)?.toFixed(2)} s`);
    await dropNs(ns);

    ns = await freshNs();
    const single = await runChild(ns, ['single', String(services), String(dests)]);
    r.bindings_single_s.push(single.seconds);
    log(`rep ${rep}: bindings single ${single.seconds.toFixed(2)} s (${single.count} ops)`);
    await dropNs(ns);

    ns = await freshNs();
    const every = await runChild(ns, ['batched-every', String(services), String(dests)]);
    if (every.failed) throw new Error(`batched-every: ${every.failed} failed`);
    r.bindings_batched_ack_every_s.push(every.seconds);
    log(`rep ${rep}: bindings batched, ACK every message ${every.seconds.toFixed(2)} s`);
    await dropNs(ns);

    ns = await freshNs();
    const batched = await runChild(ns, ['batched-last', String(services), String(dests)]);
    if (batched.failed) throw new Error(`batched-last: ${batched.failed} failed`);
    batchInfo = batched;
    r.bindings_batched_s.push(batched.seconds);
    log(`rep ${rep}: bindings batched, ACK on last ${batched.seconds.toFixed(2)} s`);

    const dump = await runChild(ns, ['dump']);
    if (dump.count !== total) throw new Error(`dump saw ${dump.count} entries, want ${total}`);
    r.bindings_dump_s.push(dump.seconds);
    const dumpStats = await runChild(ns, ['dump-stats']);
    if (dumpStats.count !== total) throw new Error(`dump-stats saw ${dumpStats.count} entries`);
    r.bindings_dump_with_stats_s.push(dumpStats.seconds);
    let listed = '';
    r.ipvsadm_list_s.push(
      await timed(async () => {
        listed = (await must('ip', ['netns', 'exec', ns, 'ipvsadm', '-Ln'])).stdout;
      }),
    );
    const rows = listed.split('\n');
    const svcRows = rows.filter((l) => l.startsWith('TCP  ')).length;
    const destRows = rows.filter((l) => /^ {2}-> \d/.test(l)).length;
    if (svcRows !== services || destRows !== services * dests) {
      throw new Error(`ipvsadm -Ln listed ${svcRows} services, ${destRows} destinations`);
    }
    log(
      `rep ${rep}: dump bindings ${dump.seconds.toFixed(2)} s (with stats ${dumpStats.seconds.toFixed(2)} s), ipvsadm -Ln ${r.ipvsadm_list_s.at(-1)?.toFixed(2)} s`,
    );
    await dropNs(ns);
  }
  const med: Record<string, number> = Object.fromEntries(
    Object.entries(r).map(([k, v]: [string, number[]]) => [k, median(v)]),
  );
  const result = {
    services,
    destinations_per_service: dests,
    operations: total,
    reps,
    ...med,
    runs: r,
    batch: {
      ack: 'last message of each datagram',
      max_messages_per_datagram: batchInfo?.maxMessagesPerDatagram,
      max_datagram_bytes: batchInfo?.maxDatagramBytes,
    },
    ratios: {
      restore_over_batched: (med.ipvsadm_restore_s ?? NaN) / (med.bindings_batched_s ?? NaN),
      dump_over_ipvsadm_list: (med.bindings_dump_s ?? NaN) / (med.ipvsadm_list_s ?? NaN),
      dump_with_stats_over_ipvsadm_list:
        (med.bindings_dump_with_stats_s ?? NaN) / (med.ipvsadm_list_s ?? NaN),
      ack_every_over_ack_last:
        (med.bindings_batched_ack_every_s ?? NaN) / (med.bindings_batched_s ?? NaN),
    },
    environment: `UML 6.1 pinned to host CPU ${process.env.KUBE_IPVS_BENCH_CPU ?? 0}, one boot, fresh netns per run`,
  };
  report('netlink', reps, med, result);
  log(`ipvsadm -R / batched = ${result.ratios.restore_over_batched.toFixed(1)}x`);
  log(`bindings dump / ipvsadm -Ln = ${result.ratios.dump_over_ipvsadm_list.toFixed(2)}`);
  log(`ACK every / ACK last = ${result.ratios.ack_every_over_ack_last.toFixed(2)}`);
}

void benchMain({
  name: 'netlink',
  url: import.meta.url,
  timeoutMs: 60 * 60_000,
  inner: ([services = 10000, dests = 10, reps = 3]) => inner(services, dests, reps),
});

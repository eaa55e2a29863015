// `npm run bench -- lvsadm [SERVICES DESTS REPS]`: in one UML boot pinned to one CPU,
// programs SERVICES TCP services × DESTS real servers (default 10 000 × 10, the state of
// bench/netlink) with the bindings, then times `lvsadm -Ln` (the installed command: node
// start-up included) and `ipvsadm -Ln` on that state, alternating, REPS times each; both
// outputs must be identical. Prints medians and writes bench/results/lvsadm.json.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchMain } from './lib/main.js';
import { dropNs, freshNs, median, must, report, timed } from './lib/run.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const child = join(here, 'netlink-lib', 'child.js');
const lvsadm = join(repoRoot, 'bin', 'lvsadm.js');

async function inner(services: number, dests: number, reps: number): Promise<void> {
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  await must('modprobe', ['-a', 'ip_vs', 'ip_vs_rr']);
  const ns = await freshNs('bench-lvsadm');
  const load = JSON.parse(
    (
      await must('ip', [
        'netns',
        'exec',
        ns,
        process.execPath,
        child,
        'batched-last',
        String(services),
        String(dests),
      ])
    ).stdout,
  ) as { failed: number; seconds: number };
  if (load.failed) throw new Error(`programming the state: ${load.failed} operations failed`);
  log(`programmed ${services} services × ${dests} destinations in ${load.seconds.toFixed(2)} s`);

  const runs = { lvsadm_list_s: [] as number[], ipvsadm_list_s: [] as number[] };
  for (let rep = 1; rep <= reps; rep++) {
    let ours = '';
    let theirs = '';
    runs.lvsadm_list_s.push(
      await timed(async () => {
        ours = (await must('ip', ['netns', 'exec', ns, process.execPath, lvsadm, '-Ln'])).stdout;
      }),
    );
    runs.ipvsadm_list_s.push(
      await timed(async () => {
        theirs = (await must('ip', ['netns', 'exec', ns, 'ipvsadm', '-Ln'])).stdout;
      }),
    );
    if (ours !== theirs) throw new Error(`rep ${rep}: lvsadm -Ln and ipvsadm -Ln differ`);
    const rows = ours.split('\n').filter((l) => /^ {2}-> \d/.test(l)).length;
    if (rows !== services * dests) throw new Error(`rep ${rep}: ${rows} destination rows listed`);
    log(
      `rep ${rep}: lvsadm -Ln ${runs.lvsadm_list_s.at(-1)?.toFixed(2)} s, ipvsadm -Ln ${runs.ipvsadm_list_s.at(-1)?.toFixed(2)} s (identical, ${ours.length} bytes)`,
    );
  }
  await dropNs(ns);

  const lvsadmS = median(runs.lvsadm_list_s);
  const ipvsadmS = median(runs.ipvsadm_list_s);
  const result = {
    services,
    destinations_per_service: dests,
    reps,
    lvsadm_list_s: lvsadmS,
    ipvsadm_list_s: ipvsadmS,
    runs,
    ratios: { lvsadm_over_ipvsadm: lvsadmS / ipvsadmS },
    environment: `UML 6.1 pinned to host CPU ${process.env.KUBE_IPVS_BENCH_CPU ?? 0}, one boot, one netns; lvsadm as the bin/lvsadm.js command`,
  };
  report('lvsadm', reps, { 'lvsadm -Ln': lvsadmS, 'ipvsadm -Ln': ipvsadmS }, result);
  log(`lvsadm / ipvsadm = ${result.ratios.lvsadm_over_ipvsadm.toFixed(2)}`);
}

void benchMain({
  name: 'lvsadm',
  url: import.meta.url,
  timeoutMs: 30 * 60_000,
  inner: ([services = 10000, dests = 10, reps = 3]) => inner(services, dests, reps),
});

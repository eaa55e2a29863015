// `npm run bench -- sync [SERVICES DESTS UPDATES REPS]` (default 10 000 × 10, 1 000
// changes, 3 reps; `sync 200 10 100 1` is a quick smoke run): `kube-ipvs run` as a real
// process against the test API server, in a fresh netns of one UML boot pinned to one CPU
// (bench/sync-lib/child.ts: cold start, peak RSS, full resync with no drift, single-endpoint
// change latency and write messages), and `ipvsadm -R` of the same rules in another fresh
// netns. Prints medians and writes bench/results/sync.json.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchMain } from './lib/main.js';
import { dropNs, freshNs, median, must, report, runJsonChild, timed } from './lib/run.js';
import { restoreInput } from './sync-lib/objects.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'sync-lib', 'child.js');

interface ChildOut {
  cold_sync_s: number;
  cold_starting_s: number;
  cold_full_sync_ms: number;
  cold_ops: number;
  cold_daemon_cpu_s: number;
  cold_api_cpu_s: number;
  cold_rss_mb: number;
  /** VmHWM at the end of the cold start, and after the resyncs. */
  cold_peak_rss_mb: number;
  resync_peak_rss_mb: number;
  verify_dump_s: number;
  resync_ms: number[];
  resync_write_msgs: number[];
  update_p50_ms: number;
  update_p99_ms: number;
  update_max_ms: number;
  update_log_p50_ms: number;
  update_log_p99_ms: number;
  update_sync_p50_ms: number;
  update_sync_p99_ms: number;
  update_syncs: number;
  update_write_msgs: number;
  update_write_msgs_by_op: Record<string, number>;
  update_bench_gc_changes: number;
  peak_rss_mb: number;
}

/** A figure for the console; a run with no changes has none (JSON null, NaN). */
function fixed(x: number | null | undefined, digits: number): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-';
}

function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').trim();
}

async function inner(
  services: number,
  dests: number,
  updates: number,
  reps: number,
): Promise<void> {
  await must('modprobe', ['-a', 'ip_vs', 'ip_vs_rr']);
  const input = restoreInput(services, dests);
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  const restore: number[] = [];
  const runs: ChildOut[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    let ns = await freshNs('bench-sync');
    restore.push(await timed(() => must('ip', ['netns', 'exec', ns, 'ipvsadm', '-R'], input)));
    log(`rep ${rep}: ipvsadm -R ${restore.at(-1)?.toFixed(2)} s`);
    await dropNs(ns);

    ns = await freshNs('bench-sync');
    try {
      runs.push(
        await runJsonChild<ChildOut>(ns, child, 'sync', [
          String(services),
          String(dests),
          String(updates),
        ]),
      );
    } finally {
      await dropNs(ns);
    }
    const r = runs.at(-1) as ChildOut;
    log(
      `rep ${rep}: cold ${r.cold_sync_s.toFixed(2)} s, resync ${median(r.resync_ms).toFixed(0)} ms ` +
        `(${Math.max(...r.resync_write_msgs)} msgs), update p50 ${fixed(r.update_p50_ms, 2)} ms ` +
        `p99 ${fixed(r.update_p99_ms, 2)} ms (${r.update_bench_gc_changes} changes with a bench GC), ` +
        `${fixed(r.update_write_msgs / updates, 2)} msgs/change, ` +
        `peak RSS ${r.peak_rss_mb.toFixed(0)} MiB (${r.cold_peak_rss_mb.toFixed(0)} after the cold start, ${r.resync_peak_rss_mb.toFixed(0)} after the resyncs)`,
    );
  }
  const med = (f: (r: ChildOut) => number): number => median(runs.map(f));
  const medians = {
    cold_sync_s: med((r) => r.cold_sync_s),
    ipvsadm_restore_s: median(restore),
    resync_s: med((r) => median(r.resync_ms)) / 1000,
    update_p50_ms: med((r) => r.update_p50_ms),
    update_p99_ms: med((r) => r.update_p99_ms),
  };
  const batched = JSON.parse(
    readFileSync(resolve(here, '../../bench/results/netlink.json'), 'utf8'),
  ) as { bindings_batched_s?: number; services?: number; destinations_per_service?: number };
  const sameScale = batched.services === services && batched.destinations_per_service === dests;
  const result = {
    services,
    destinations_per_service: dests,
    updates,
    reps,
    ...medians,
    // Worst over every resync of every rep: the target is exactly 0.
    resync_write_msgs: Math.max(...runs.flatMap((r) => r.resync_write_msgs)),
    msgs_per_update: med((r) => r.update_write_msgs) / updates,
    rss_mb: Math.max(...runs.map((r) => r.peak_rss_mb)),
    cold_starting_s: med((r) => r.cold_starting_s),
    cold_full_sync_s: med((r) => r.cold_full_sync_ms) / 1000,
    cold_daemon_cpu_s: med((r) => r.cold_daemon_cpu_s),
    cold_api_cpu_s: med((r) => r.cold_api_cpu_s),
    update_log_p50_ms: med((r) => r.update_log_p50_ms),
    update_log_p99_ms: med((r) => r.update_log_p99_ms),
    update_sync_p50_ms: med((r) => r.update_sync_p50_ms),
    update_sync_p99_ms: med((r) => r.update_sync_p99_ms),
    runs: { ipvsadm_restore_s: restore, daemon: runs },
    ratios: {
      restore_over_cold_sync: medians.ipvsadm_restore_s / medians.cold_sync_s,
      ...(sameScale && batched.bindings_batched_s
        ? { cold_sync_over_netlink_batched: medians.cold_sync_s / batched.bindings_batched_s }
        : {}),
    },
    definitions: {
      cold_sync_s:
        'spawn of `kube-ipvs run` to the arrival of its first full "synced" log line (written after every reply of the batch), then checked by a full dump',
      cold_full_sync_s:
        "the daemon's own durationMs of that first full sync (dump, translate, diff, apply)",
      cold_daemon_cpu_s:
        'CPU time (user + system) of the daemon from its spawn to the end of the cold start, median over reps',
      cold_api_cpu_s:
        'CPU time of the bench process, which is the test API server, over the same span (it shares the one CPU)',
      resync_s:
        'durationMs of a full resync with no drift (requested by a config change), median of 3 per rep',
      update_ms:
        'one endpoint added to one EndpointSlice: TestApiServer update → watch event → informer → store → partial sync → netlink, until a GET_DEST dump shows it (made when the daemon\'s "synced" line has arrived, then every 1 ms until it does); before the first change and every 100th, outside any change, the bench process collects its own garbage and waits until neither process has used CPU for 200 ms',
      update_log_ms: 'the same change to the "time" of the daemon\'s partial "synced" log line',
      update_sync_ms:
        "the durationMs of that partial sync: the daemon's own work (translate, diff, netlink round trip)",
      msgs_per_update:
        'write messages (ops) of every partial and drain sync in the change phase / changes',
      update_slowest:
        "per rep, the ten slowest changes: poll_ms (update_ms), api_ms (the API server's update call), log_ms, sync_ms, and bench_gc_ms: the bench process's own garbage collection within the change (it shares the daemon's CPU); update_bench_gc_changes counts the changes with any",
      rss_mb:
        'VmHWM of the daemon, MiB, max over reps (each run also has it at the end of the cold start and after the resyncs)',
    },
    load_at_end: loadavg(),
    environment: `UML 6.1 pinned to host CPU ${process.env.KUBE_IPVS_BENCH_CPU ?? 0}, one boot, fresh netns per run; the API server shares that CPU`,
  };
  report('sync', reps, medians, result);
  log(
    `ipvsadm -R / cold sync = ${result.ratios.restore_over_cold_sync.toFixed(1)}x; ` +
      `resync writes ${result.resync_write_msgs}; ${fixed(result.msgs_per_update, 2)} msgs/change; ` +
      `peak RSS ${result.rss_mb.toFixed(0)} MiB`,
  );
}

void benchMain({
  name: 'sync',
  url: import.meta.url,
  timeoutMs: 60 * 60_000,
  inner: ([services = 10000, dests = 10, updates = 1000, reps = 3]) =>
    inner(services, dests, updates, reps),
});

// One measured life of `kube-ipvs run`, started by bench/sync.ts under `ip netns exec` in
// a fresh namespace: the test API server (in this process) serves SERVICES Services ×
// DESTS endpoints; the daemon starts, programs the kernel, resyncs with no drift, then
// follows UPDATES single-endpoint changes one at a time. Prints the figures as JSON.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { IpvsClient } from '../../bindings/ipvs/client.js';
import type { IpvsServiceId } from '../../bindings/ipvs/codec.js';
import { AF_INET } from '../../bindings/ipvs/types.js';
import { TestApiServer } from '../../test/fixtures/apiserver/index.js';
import { cpuTicks, Daemon, type LogLine } from './daemon.js';
import {
  endpoint,
  NODE,
  seedCluster,
  SERVICE_PORT,
  sliceObject,
  TARGET_PORT,
  vip,
} from './objects.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '../../../bin/kube-ipvs.js');
const RESYNCS = 3;
/**
 * Change events the test API server keeps for a watch to resume from (its default is
 * 10 000, each a clone of the object): the daemon's watches stay open through the run.
 */
const HISTORY = 2_000;
/** USER_HZ, the unit of /proc/PID/stat's CPU times (100 on Linux). */
const CLOCK_TICKS = 100;
/** quiet(): no CPU used by either process for this long (UML counts 10 ms ticks). */
const QUIET_MS = 200;
const QUIET_POLL_MS = 20;
const QUIET_LIMIT_MS = 10_000;
/** Changes between two collections of this process's own garbage, made between changes. */
const COLLECT_EVERY = 100;
/** Bounds for waiting on the daemon. */
const COLD_TIMEOUT_MS = 15 * 60_000;
const STEP_TIMEOUT_MS = 120_000;

const log = (s: string): void => void process.stderr.write(`  [sync] ${s}\n`);
const sinceS = (fromNs: bigint, toNs: bigint): number => Number(toNs - fromNs) / 1e9;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isSynced = (kind: string) => (l: LogLine) => l.msg === 'synced' && l.kind === kind;

function serviceId(i: number): IpvsServiceId {
  return { family: AF_INET, protocol: 6, address: vip(i), port: SERVICE_PORT, fwmark: 0 };
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  return s[Math.max(0, Math.ceil(p * s.length) - 1)] ?? NaN;
}

/**
 * How many services and real servers the kernel holds. Only the counts outlive the call:
 * a dump kept to the end would be 110 000 objects more for this process to mark in every
 * full collection while it times changes on the daemon's CPU.
 */
async function kernelCounts(ipvs: IpvsClient): Promise<{ services: number; destinations: number }> {
  const table = await ipvs.dumpAll();
  return {
    services: table.length,
    destinations: table.reduce((n, e) => n + e.destinations.length, 0),
  };
}

/**
 * Waits until neither the daemon nor this process has used CPU for QUIET_MS (both share
 * one CPU; what either still does after a phase, a collection or its sweeping, would
 * fall into the next one's first changes). Gives up after QUIET_LIMIT_MS, saying so.
 */
async function quiet(daemon: Daemon): Promise<void> {
  const ticks = () => daemon.cpuTicks() + cpuTicks('/proc/self/stat');
  const until = Date.now() + QUIET_LIMIT_MS;
  let last = ticks();
  let since = Date.now();
  while (Date.now() - since < QUIET_MS) {
    if (Date.now() > until) {
      log(`still busy after ${QUIET_LIMIT_MS} ms; going on`);
      return;
    }
    await sleep(QUIET_POLL_MS);
    const now = ticks();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/** This process's garbage collections, as performance.now() spans. */
function watchCollections(): { spans: { start: number; end: number }[]; stop: () => void } {
  const spans: { start: number; end: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      spans.push({ start: e.startTime, end: e.startTime + e.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  return { spans, stop: () => observer.disconnect() };
}

/** Milliseconds of the spans that fall within [from, to]. */
function overlapMs(spans: readonly { start: number; end: number }[], from: number, to: number) {
  return spans.reduce((n, s) => n + Math.max(0, Math.min(s.end, to) - Math.max(s.start, from)), 0);
}

function writeMsgs(lines: readonly LogLine[]): number {
  return lines.reduce((n, l) => n + (l.ops ?? 0), 0);
}

async function main(): Promise<void> {
  const [services, dests, updates] = process.argv.slice(2).map(Number) as [number, number, number];
  // UML's /run is a tmpfs (test/harness/uml.ts): the daemon's directory watch sees the
  // config's rename there at once. On the host's filesystem (hostfs) no event comes, and
  // each resync waited for the 60 s poll.
  const dir = mkdtempSync(join(existsSync('/run') ? '/run' : tmpdir(), 'kube-ipvs-bench-sync-'));
  // This process, the load generator, shares the daemon's one CPU: its collections stall
  // the changes it times, so it keeps its heap small (HISTORY) and, as the daemon does
  // (lib/cli/memory.ts), turns off V8's pretenuring, which would send the update path's
  // garbage to the old generation after the seeding, where everything survives.
  setFlagsFromString('--no-allocation-site-pretenuring');
  const api = await TestApiServer.start({ historyLimit: HISTORY });
  const ipvs = await IpvsClient.open({ timeoutMs: 120_000 });
  let daemon: Daemon | undefined;
  try {
    const { endpoints, kubeconfig, config } = seedCluster(api, dir, services, dests);
    log(`api server holds ${services} Services × ${dests} endpoints; starting kube-ipvs run`);

    // Cold start: process start → the first full sync's "synced" line (logged once every
    // reply of its batch is in, i.e. the kernel holds it all), checked against a dump.
    const benchTicks0 = cpuTicks('/proc/self/stat');
    daemon = new Daemon(bin, [
      ...['--kubeconfig', kubeconfig, '--node-name', NODE, '--config', config],
      ...['--log-format', 'json'],
    ]);
    const first = await daemon.next(isSynced('full'), 0, COLD_TIMEOUT_MS);
    const coldS = sinceS(daemon.startNs, first.receivedNs);
    const starting = await daemon.next((l) => l.msg === 'starting', 0, 0);
    const startingS = sinceS(daemon.startNs, starting.receivedNs);
    const coldMem = daemon.memory();
    // Where the cold start's CPU went: the daemon's, and this process's (the API server
    // answering the lists); the rest of the wall time is other processes and waits.
    const coldDaemonCpuS = daemon.cpuTicks() / CLOCK_TICKS;
    const coldApiCpuS = (cpuTicks('/proc/self/stat') - benchTicks0) / CLOCK_TICKS;
    const dumpStart = process.hrtime.bigint();
    const held = await kernelCounts(ipvs);
    const dumpS = sinceS(dumpStart, process.hrtime.bigint());
    if (
      held.services !== services ||
      held.destinations !== services * dests ||
      (first.failed ?? 0) > 0
    )
      throw new Error(
        `after the first sync the kernel has ${held.services} services, ${held.destinations} real servers (${first.failed} ops failed)`,
      );
    log(
      `cold start ${coldS.toFixed(2)} s ("starting" logged at ${startingS.toFixed(2)} s; full sync ${first.durationMs} ms, ${first.ops} ops), ` +
        `CPU: daemon ${coldDaemonCpuS.toFixed(2)} s, API server ${coldApiCpuS.toFixed(2)} s; ` +
        `RSS ${coldMem.rssMb.toFixed(0)} MiB (peak ${coldMem.peakMb.toFixed(0)}); kernel verified by a dump (${dumpS.toFixed(2)} s)`,
    );

    // Full resyncs with nothing to repair, asked for by a config change (a comment).
    const resyncs: LogLine[] = [];
    for (let k = 0; k < RESYNCS; k++) {
      const from = daemon.lines.length;
      // Replaced by a rename, as a ConfigMap update does: the directory watch sees it at once.
      writeFileSync(`${config}.new`, `${readFileSync(config, 'utf8')}# resync ${k}\n`);
      renameSync(`${config}.new`, config);
      const l = await daemon.next(isSynced('full'), from, STEP_TIMEOUT_MS);
      resyncs.push(l);
      log(`resync ${k + 1}: ${l.durationMs} ms, ${l.ops} write messages`);
    }
    // Which phase sets the peak: VmHWM only grows, so the changes' own share is what they add.
    const resyncPeakMb = daemon.memory().peakMb;

    // Single-endpoint changes, one at a time: an endpoint added to one Service's slice.
    // Latency: from just before the API server's update to the moment a GET_DEST dump of
    // that one service (same netns) shows the new real server. The dump is made once the
    // daemon's "synced" line for the change has arrived, and again every ms until it shows
    // the server. Polling every ms from the start slowed what it timed: this process used
    // 2.1 s of the one CPU in a 4.8 s change phase that way, 1.4 s of 4.0 s this way
    // (200 Services, 1 000 changes).
    /**
     * Per change: the dump's latency, the API server's own share of it (its update call),
     * the daemon's log line's latency, its sync's own duration, and how long this process
     * (the API server and the poller, on the daemon's CPU) spent collecting garbage within
     * the change's window.
     */
    const detail: {
      change: number;
      /** When the change was made, seconds since the daemon's spawn (to match its traces). */
      at_s: number;
      poll_ms: number;
      api_ms: number;
      log_ms: number;
      sync_ms: number;
      bench_gc_ms: number;
    }[] = [];
    const windows: { from: number; to: number }[] = [];
    const from = daemon.lines.length;
    const stride = 7919; // prime: consecutive changes hit Services spread over the table
    // The API server and this poller share the CPU with the daemon: garbage of their own
    // is collected between changes (from the cold start and resyncs now, then every
    // COLLECT_EVERY changes), not during one, and each collection's sweeping is let end.
    const gc = (globalThis as { gc?: () => void }).gc;
    const running = daemon;
    const collect = async (): Promise<void> => {
      gc?.();
      await quiet(running);
    };
    await collect();
    const collections = watchCollections();
    for (let c = 0; c < updates; c++) {
      if (c > 0 && c % COLLECT_EVERY === 0) await collect();
      const i = (c * stride) % services;
      const eps = endpoints[i] ?? [];
      const added = endpoint(i, eps.length);
      eps.push(added);
      const mark = daemon.lines.length;
      const wall0 = Date.now();
      const start = performance.now();
      const t0 = process.hrtime.bigint();
      api.update('endpointslices', sliceObject(i, eps));
      const apiMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const synced = await daemon.next(isSynced('partial'), mark, STEP_TIMEOUT_MS);
      const until = Date.now() + STEP_TIMEOUT_MS;
      for (;;) {
        const ds = await ipvs.getDestinations(serviceId(i), { stats: false });
        if (ds.some((d) => d.address === added && d.port === TARGET_PORT)) break;
        if (Date.now() > until) throw new Error(`change ${c}: ${added} not in the kernel`);
        await sleep(1);
      }
      windows.push({ from: start, to: performance.now() });
      detail.push({
        change: c,
        at_s: sinceS(running.startNs, t0),
        poll_ms: Number(process.hrtime.bigint() - t0) / 1e6,
        api_ms: apiMs,
        log_ms: (synced.time ?? NaN) - wall0,
        sync_ms: synced.durationMs ?? NaN,
        bench_gc_ms: NaN, // filled in below: the observer reports a collection after it
      });
    }
    // Let the last collections' entries arrive before they are matched to changes.
    await sleep(10);
    collections.stop();
    detail.forEach((d, k) => {
      const w = windows[k];
      if (w) d.bench_gc_ms = overlapMs(collections.spans, w.from, w.to);
    });
    // KUBE_IPVS_BENCH_DETAIL=FILE: every change's figures, for a closer look at the tail.
    const detailFile = process.env.KUBE_IPVS_BENCH_DETAIL;
    if (detailFile) writeFileSync(detailFile, JSON.stringify(detail));
    const latencies = detail.map((d) => d.poll_ms);
    const logLatencies = detail.map((d) => d.log_ms);
    const syncTimes = detail.map((d) => d.sync_ms);
    const partials = daemon.lines.slice(from).filter(isSynced('partial'));
    const drains = daemon.lines.slice(from).filter(isSynced('drain'));
    const updateMsgs = writeMsgs(partials) + writeMsgs(drains);
    const byOp: Record<string, number> = {};
    for (const l of [...partials, ...drains])
      for (const [op, n] of Object.entries(l.byOp ?? {}))
        byOp[op] = (byOp[op] ?? 0) + n.ok + n.failed;
    if (updates > 0)
      log(
        `${updates} changes: p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms, ` +
          `${updateMsgs} write messages in ${partials.length} syncs`,
      );
    const mem = daemon.memory();
    await daemon.stop();
    daemon = undefined;

    const result = {
      cold_sync_s: coldS,
      cold_starting_s: startingS,
      cold_full_sync_ms: first.durationMs,
      cold_ops: first.ops,
      cold_daemon_cpu_s: coldDaemonCpuS,
      cold_api_cpu_s: coldApiCpuS,
      cold_rss_mb: coldMem.rssMb,
      cold_peak_rss_mb: coldMem.peakMb,
      resync_peak_rss_mb: resyncPeakMb,
      verify_dump_s: dumpS,
      resync_ms: resyncs.map((l) => l.durationMs ?? NaN),
      resync_write_msgs: resyncs.map((l) => l.ops ?? NaN),
      update_p50_ms: percentile(latencies, 0.5),
      update_p99_ms: percentile(latencies, 0.99),
      update_max_ms: percentile(latencies, 1),
      update_log_p50_ms: percentile(logLatencies, 0.5),
      update_log_p99_ms: percentile(logLatencies, 0.99),
      // The daemon's own share: its partial sync's durationMs (translate, diff, netlink).
      update_sync_p50_ms: percentile(syncTimes, 0.5),
      update_sync_p99_ms: percentile(syncTimes, 0.99),
      // Where the tail comes from: a slow change whose sync was short waited before it.
      update_slowest: [...detail].sort((a, b) => b.poll_ms - a.poll_ms).slice(0, 10),
      // Changes during which this process (on the daemon's CPU) collected garbage.
      update_bench_gc_changes: detail.filter((d) => d.bench_gc_ms > 0).length,
      update_syncs: partials.length + drains.length,
      update_write_msgs: updateMsgs,
      update_write_msgs_by_op: byOp,
      peak_rss_mb: mem.peakMb,
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await daemon?.stop();
    ipvs.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

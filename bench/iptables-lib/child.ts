// One measured life of `kube-ipvs run --backend iptables`, started by bench/iptables.ts
// under `ip netns exec` in a namespace it created on the host kernel: the test API server
// (in this process) serves SERVICES Services × DESTS endpoints; the daemon starts and
// writes them all (cold sync), then follows CHANGES single-endpoint changes, one at a
// time. FLAVOUR legacy makes every iptables tool on the daemon's PATH iptables-legacy's.
// Every iptables-restore the daemon runs goes through a recording wrapper put first
// on its PATH, so the rules each sync wrote are counted from what it really sent. At the
// end the whole ruleset, as iptables-save prints it, is written to SAVE_FILE (and the
// ipsets its masquerade rules match to SAVE_FILE.ipset) for the restore anchor. Prints the figures as JSON on stdout.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestApiServer } from '../../test/fixtures/apiserver/index.js';
import { Daemon, type LogLine } from '../sync-lib/daemon.js';
import { endpoint, NODE, seedCluster, sliceObject } from '../sync-lib/objects.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '../../../bin/kube-ipvs.js');
const COLD_TIMEOUT_MS = 30 * 60_000;
const STEP_TIMEOUT_MS = 300_000;

const log = (s: string): void => void process.stderr.write(`  [iptables] ${s}\n`);
const sinceS = (fromNs: bigint, toNs: bigint): number => Number(toNs - fromNs) / 1e9;
const isSynced = (kind: string) => (l: LogLine) => l.msg === 'synced' && l.kind === kind;

/**
 * A PATH directory whose iptables-restore / ip6tables-restore keep their input in `inputs`
 * before running the real one. With `legacy`, every iptables tool there is
 * iptables-legacy's, as `update-alternatives --set iptables iptables-legacy` makes a node.
 */
function recordingPath(dir: string, inputs: string, flavour: 'default' | 'legacy'): string {
  mkdirSync(inputs, { recursive: true });
  const wrappers = join(dir, 'bin');
  mkdirSync(wrappers);
  const real = (tool: string): string => {
    const found = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    if (!found.startsWith('/')) throw new Error(`${tool} not found`);
    return found;
  };
  const wrap = (tool: string, body: string): void => {
    const file = join(wrappers, tool);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  };
  for (const base of ['iptables', 'ip6tables']) {
    const legacy = flavour === 'legacy';
    const restore = real(legacy ? `${base}-legacy-restore` : `${base}-restore`);
    wrap(
      `${base}-restore`,
      `f="${inputs}/$(date +%s%N)-$$.in"\ncat > "$f"\nexec ${restore} "$@" < "$f"`,
    );
    if (legacy) {
      wrap(`${base}-save`, `exec ${real(`${base}-legacy-save`)} "$@"`);
      wrap(base, `exec ${real(`${base}-legacy`)} "$@"`);
    }
  }
  return wrappers;
}

/** Inputs recorded since the last call: how many restores, rules written, bytes. */
function takeInputs(inputs: string): { restores: number; rules: number; bytes: number } {
  let rules = 0;
  let bytes = 0;
  const files = readdirSync(inputs);
  for (const f of files) {
    const text = readFileSync(join(inputs, f), 'utf8');
    bytes += Buffer.byteLength(text);
    // Rules added (-A) or inserted (-I); chain declarations, -D, -F and -X are not rules.
    for (const line of text.split('\n')) if (/^-[AI] /.test(line)) rules++;
    rmSync(join(inputs, f));
  }
  return { restores: files.length, rules, bytes };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

async function main(): Promise<void> {
  const [services, dests, changes] = process.argv.slice(2).map(Number) as [number, number, number];
  const saveFile = process.argv[5];
  const flavour = process.argv[6] === 'legacy' ? 'legacy' : 'default';
  if (!saveFile) throw new Error('usage: child SERVICES DESTS CHANGES SAVE_FILE [legacy]');
  const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-bench-iptables-'));
  const inputs = join(dir, 'inputs');
  const api = await TestApiServer.start();
  let daemon: Daemon | undefined;
  try {
    const { endpoints, kubeconfig, config } = seedCluster(api, dir, services, dests);
    process.env.PATH = `${recordingPath(dir, inputs, flavour)}:${process.env.PATH ?? ''}`;
    log(
      `api server holds ${services} Services × ${dests} endpoints; starting kube-ipvs run (iptables ${flavour})`,
    );

    // Cold: process start → the first full sync's "synced" line (logged once its
    // iptables-restore has returned, i.e. the kernel holds every rule).
    daemon = new Daemon(bin, [
      ...['--kubeconfig', kubeconfig, '--node-name', NODE, '--config', config],
      ...['--backend', 'iptables', '--log-format', 'json'],
    ]);
    const first = await daemon.next(isSynced('full'), 0, COLD_TIMEOUT_MS);
    const coldS = sinceS(daemon.startNs, first.receivedNs);
    const cold = takeInputs(inputs);
    if ((first.failed ?? 0) > 0) throw new Error(`cold sync: ${first.failed} ops failed`);
    const save = execFileSync('iptables-save', [], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const dnat = save.split('\n').filter((l) => l.includes(' -j DNAT ')).length;
    if (dnat !== services * dests)
      throw new Error(`after the cold sync iptables-save shows ${dnat} DNAT rules`);
    writeFileSync(saveFile, save);
    // The masquerade rules match ipsets: the anchor creates them first (untimed).
    writeFileSync(
      `${saveFile}.ipset`,
      execFileSync('ipset', ['save'], { encoding: 'utf8', maxBuffer: 1 << 30 }),
    );
    log(
      `cold sync ${coldS.toFixed(2)} s (full sync ${first.durationMs} ms, ${first.ops} ops), ` +
        `${cold.restores} restores, ${cold.rules} rules, ${(cold.bytes / 1e6).toFixed(1)} MB; ` +
        `${dnat} DNAT rules in iptables-save`,
    );

    // One Service changes: an endpoint added to its slice; from the API server's update
    // to the arrival of the partial sync's "synced" line.
    const changeS: number[] = [];
    const changeRules: number[] = [];
    const changeRestores: number[] = [];
    const changeMs: number[] = [];
    const stride = 7919;
    for (let c = 0; c < changes; c++) {
      const i = (c * stride) % services;
      const eps = endpoints[i] ?? [];
      eps.push(endpoint(i, eps.length));
      takeInputs(inputs);
      const mark = daemon.lines.length;
      const t0 = process.hrtime.bigint();
      api.update('endpointslices', sliceObject(i, eps));
      const synced = await daemon.next(isSynced('partial'), mark, STEP_TIMEOUT_MS);
      changeS.push(sinceS(t0, synced.receivedNs));
      changeMs.push(synced.durationMs ?? NaN);
      const w = takeInputs(inputs);
      changeRules.push(w.rules);
      changeRestores.push(w.restores);
      log(
        `change ${c + 1}: ${changeS.at(-1)?.toFixed(3)} s (sync ${synced.durationMs} ms), ` +
          `${w.restores} restores, ${w.rules} rules`,
      );
    }
    const mem = daemon.memory();
    await daemon.stop();
    daemon = undefined;
    process.stdout.write(
      JSON.stringify({
        cold_sync_s: coldS,
        cold_full_sync_ms: first.durationMs,
        cold_ops: first.ops,
        cold_restores: cold.restores,
        cold_rules: cold.rules,
        cold_restore_bytes: cold.bytes,
        one_change_s: median(changeS),
        one_change_runs_s: changeS,
        one_change_sync_ms: changeMs,
        rules_per_change: median(changeRules),
        rules_per_change_runs: changeRules,
        restores_per_change: median(changeRestores),
        saved_rules: save.split('\n').filter((l) => l.startsWith('-A ')).length,
        peak_rss_mb: mem.peakMb,
      }) + '\n',
    );
  } finally {
    await daemon?.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

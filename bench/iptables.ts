// `npm run bench -- iptables [SERVICES DESTS CHANGES REPS [legacy]]` (default 10 000 × 10,
// 5 changes, 3 reps, the system's iptables; `iptables 200 10 3 1` is a quick smoke run;
// `legacy`: iptables-legacy, as a node switched to it by update-alternatives): the iptables backend on
// the host kernel (no UML: the host has no IPVS, the node this backend is for), inside
// network namespaces this bench creates and deletes. Per rep: `kube-ipvs run --backend
// iptables` against the test API server in a fresh namespace (bench/iptables-lib/child.ts:
// cold sync, then single-endpoint changes with the rules each wrote), and
// `iptables-restore` of the whole ruleset that run left (as iptables-save printed it) into
// another fresh namespace, the anchor. Prints medians and writes bench/results/iptables.json.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, must, report, runJsonChild, timed } from './lib/run.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'iptables-lib', 'child.js');

interface ChildOut {
  cold_sync_s: number;
  cold_full_sync_ms: number;
  cold_ops: number;
  cold_restores: number;
  cold_rules: number;
  cold_restore_bytes: number;
  one_change_s: number;
  one_change_runs_s: number[];
  one_change_sync_ms: number[];
  rules_per_change: number;
  rules_per_change_runs: number[];
  restores_per_change: number;
  saved_rules: number;
  peak_rss_mb: number;
}

const created = new Set<string>();
let counter = 0;

/** A namespace of this bench's own, with lo up. */
async function freshNs(): Promise<string> {
  const name = `bench-ipt-${process.pid}-${++counter}`;
  await must('ip', ['netns', 'add', name]);
  created.add(name);
  await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

async function dropNs(name: string): Promise<void> {
  await must('ip', ['netns', 'delete', name]);
  created.delete(name);
}

async function main(
  services: number,
  dests: number,
  changes: number,
  reps: number,
  flavour: 'default' | 'legacy',
) {
  const tool = (t: 'restore' | 'save'): string =>
    flavour === 'legacy' ? `iptables-legacy-${t}` : `iptables-${t}`;
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  if (process.getuid?.() !== 0) throw new Error('bench iptables needs root (network namespaces)');
  const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-bench-iptables-'));
  const saveFile = join(dir, 'ruleset.save');
  const runs: ChildOut[] = [];
  const restore: number[] = [];
  try {
    for (let rep = 1; rep <= reps; rep++) {
      let ns = await freshNs();
      try {
        runs.push(
          await runJsonChild<ChildOut>(ns, child, 'iptables', [
            String(services),
            String(dests),
            String(changes),
            saveFile,
            flavour,
          ]),
        );
      } finally {
        await dropNs(ns);
      }
      const saved = readFileSync(saveFile, 'utf8');
      ns = await freshNs();
      try {
        await must(
          'ip',
          ['netns', 'exec', ns, 'ipset', 'restore'],
          readFileSync(`${saveFile}.ipset`, 'utf8'),
        );
        restore.push(await timed(() => must('ip', ['netns', 'exec', ns, tool('restore')], saved)));
        const back = (await must('ip', ['netns', 'exec', ns, tool('save')])).stdout;
        const dnat = back.split('\n').filter((l) => l.includes(' -j DNAT ')).length;
        if (dnat !== services * dests)
          throw new Error(`the restored ruleset has ${dnat} DNAT rules`);
      } finally {
        await dropNs(ns);
      }
      const r = runs.at(-1) as ChildOut;
      log(
        `rep ${rep}: cold sync ${r.cold_sync_s.toFixed(2)} s (${r.cold_rules} rules), one change ` +
          `${r.one_change_s.toFixed(3)} s (${r.rules_per_change} rules), full iptables-restore ` +
          `${restore.at(-1)?.toFixed(2)} s (${r.saved_rules} rules)`,
      );
    }
  } finally {
    for (const ns of [...created]) await dropNs(ns).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (f: (r: ChildOut) => number): number => median(runs.map(f));
  const medians = {
    cold_sync_s: med((r) => r.cold_sync_s),
    one_change_s: med((r) => r.one_change_s),
    rules_per_change: med((r) => r.rules_per_change),
    full_restore_s: median(restore),
  };
  const result = {
    services,
    destinations_per_service: dests,
    changes,
    reps,
    iptables: flavour === 'legacy' ? 'legacy' : 'system default',
    ...medians,
    cold_rules: med((r) => r.cold_rules),
    saved_rules: med((r) => r.saved_rules),
    rss_mb: Math.max(...runs.map((r) => r.peak_rss_mb)),
    ratios: {
      cold_sync_over_one_change: medians.cold_sync_s / medians.one_change_s,
      full_restore_over_cold_sync: medians.full_restore_s / medians.cold_sync_s,
      rules_per_change_over_cold_rules: medians.rules_per_change / med((r) => r.cold_rules),
    },
    runs: { full_restore_s: restore, daemon: runs },
    definitions: {
      cold_sync_s:
        'spawn of `kube-ipvs run --backend iptables` to the arrival of its first full "synced" log line (after its iptables-restore returned), then checked by counting DNAT rules in iptables-save',
      one_change_s:
        'one endpoint added to one EndpointSlice: TestApiServer update → watch → partial sync → iptables-restore, to the arrival of the partial "synced" line; median of the changes of a rep',
      rules_per_change:
        'rules (-A and -I lines) in every iptables-restore input the daemon sent for one change, recorded by a wrapper first on its PATH; median',
      full_restore_s:
        '`iptables-restore` (no --noflush) of the whole iptables-save output the daemon left, into a fresh namespace',
    },
    load_at_end: readFileSync('/proc/loadavg', 'utf8').trim(),
    environment: `host kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, ${(await must(flavour === 'legacy' ? 'iptables-legacy' : 'iptables', ['--version'])).stdout.trim()}, fresh netns per run, the API server in the bench's child on the same 2 cores`,
  };
  report('iptables', reps, medians, result);
  log(
    `cold sync / one change = ${result.ratios.cold_sync_over_one_change.toFixed(1)}x (target ≥ 10x); ` +
      `rules per change ${medians.rules_per_change} of ${result.cold_rules} written cold`,
  );
}

const argv = process.argv.slice(2);
const flavour = argv.at(-1) === 'legacy' ? 'legacy' : 'default';
const [services = 10000, dests = 10, changes = 5, reps = 3] = argv
  .filter((a) => a !== 'legacy')
  .map(Number);
main(services, dests, changes, reps, flavour).catch((e: unknown) => {
  process.stderr.write(`bench iptables: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

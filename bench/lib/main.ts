// The two halves of a UML benchmark's entry point: on the host it boots UML (pinned to
// one CPU, docs/architecture.md; KUBE_IPVS_BENCH_CPU picks another when CPU 0 is busy) and runs
// its own file inside with `--inner`; inside, it runs the measurement.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInUml } from '../../test/harness/uml.js';

export interface Bench {
  name: string;
  /** import.meta.url of the benchmark's file. */
  url: string;
  timeoutMs: number;
  /** Runs inside UML with the numeric arguments given on the host (defaults are its own). */
  inner(args: number[]): Promise<void>;
}

export async function benchMain(b: Bench): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--inner') {
    await b.inner(args.slice(1).map(Number));
    return;
  }
  const file = fileURLToPath(b.url);
  const r = await runInUml({
    command: process.execPath,
    args: [file, '--inner', ...args],
    cwd: resolve(file, '../../..'),
    timeoutMs: b.timeoutMs,
    memory: '2G',
    cpu: Number(process.env.KUBE_IPVS_BENCH_CPU ?? 0),
    check: false,
    onOutput: (t) => process.stdout.write(t),
  });
  if (r.exitCode !== 0) {
    process.stderr.write(`bench ${b.name}: inner run failed (exit ${r.exitCode})\n`);
    process.exit(1);
  }
}

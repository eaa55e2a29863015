// The host half of `npm run demo` (scripts/demo.mjs calls main() after the build): boots
// User-Mode Linux, because the host kernel has no IPVS, runs inner.js inside it and shows
// its output as it comes. Every failure ends as one clear message and exit status 1.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UmlError, runInUml } from '../uml.js';
import { stamp } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../../..');
/** Boot, demo and halt; the demo itself takes well under a minute. */
const timeoutMs = 180_000;

/** Runs the demo; `t0` is when `npm run demo` started. Resolves to the exit status. */
export async function main(t0: number): Promise<number> {
  process.stdout.write(`${stamp(t0)}booting User-Mode Linux (the host kernel has no IPVS)\n`);
  try {
    const run = await runInUml({
      command: process.execPath,
      args: [join(here, 'inner.js')],
      cwd: root,
      env: { KUBE_IPVS_DEMO_T0: String(t0) },
      timeoutMs,
      check: false,
      onOutput: (text) => process.stdout.write(text),
    });
    if (run.exitCode !== 0) {
      process.stderr.write(`demo: failed inside User-Mode Linux (exit ${run.exitCode})\n`);
      return 1;
    }
    process.stdout.write(`${stamp(t0)}done (User-Mode Linux halted)\n`);
    return 0;
  } catch (err) {
    const text = err instanceof UmlError ? err.message : `internal error: ${String(err)}`;
    process.stderr.write(`demo: ${text}\n`);
    return 1;
  }
}

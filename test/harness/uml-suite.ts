// `node dist/test/harness/uml-suite.js RESULTS.json [GREP]`: the kernel suite. Boots UML
// once and runs every dist/test/kernel/**/*.test.js inside it through mocha-run, printing
// mocha's report here as it goes. RESULTS.json is written only from counts the inner run
// produced: a UML that did not boot, hung or crashed leaves it absent, and the caller
// counts that as a failure.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UmlError, runInUml, tail, umlUnavailableReason } from './uml.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');

class SuiteFailure extends Error {}

function fail(message: string): never {
  throw new SuiteFailure(message);
}

function describeExit(code: number): string {
  return code > 128 ? `exit ${code}: killed by signal ${code - 128}` : `exit ${code}`;
}

async function main(): Promise<void> {
  const [resultsArg, grep] = process.argv.slice(2);
  if (!resultsArg) {
    process.stderr.write('usage: uml-suite RESULTS.json [GREP]\n');
    process.exit(2);
  }
  const results = resolve(resultsArg);
  rmSync(results, { force: true });
  const unavailable = umlUnavailableReason();
  if (unavailable) fail(`cannot run the kernel suite: ${unavailable}`);

  const work = mkdtempSync(join(tmpdir(), 'kube-ipvs-kernel-'));
  const inner = join(work, 'results.json');
  const timeoutMs = Number(process.env.KUBE_IPVS_UML_TIMEOUT_MS ?? 30 * 60_000);
  try {
    const args = [
      join(here, 'mocha-run.js'),
      'kernel',
      inner,
      join(repoRoot, 'dist/test/kernel'),
      ...(grep ? [grep] : []),
    ];
    let run;
    try {
      run = await runInUml({
        command: process.execPath,
        args,
        cwd: repoRoot,
        timeoutMs,
        check: false,
        onOutput: (text) => process.stdout.write(text),
      });
    } catch (err) {
      if (err instanceof UmlError) fail(err.message);
      throw err;
    }
    const seconds = (run.durationMs / 1000).toFixed(1);
    if (!existsSync(inner)) {
      fail(
        `the run inside UML (${describeExit(run.exitCode)}, ${seconds} s) wrote no results\n` +
          `--- UML console (tail) ---\n${tail(run.console, 40)}`,
      );
    }
    // Parse before copying, so a truncated file is reported instead of passed on.
    JSON.parse(readFileSync(inner, 'utf8'));
    copyFileSync(inner, results);
    process.stdout.write(`uml-suite: kernel suite ran in UML in ${seconds} s\n`);
    if (run.exitCode !== 0) {
      fail(
        `the run inside UML failed (${describeExit(run.exitCode)})\n` +
          `--- UML console (tail) ---\n${tail(run.console, 20)}`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    const text =
      err instanceof SuiteFailure
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
    process.stderr.write(`uml-suite: ${text}\n`);
    process.exit(1);
  },
);

// Runs one mocha suite in this process and writes its counts to a JSON file, so the
// top-level test script can add up suites run on the host and inside User-Mode Linux.
import { writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Mocha from 'mocha';

export interface SuiteCounts {
  suite: string;
  passed: number;
  failed: number;
  pending: number;
}

function findTests(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

async function main(): Promise<void> {
  const [suite, resultsFile, dir, grep] = process.argv.slice(2);
  if (!suite || !resultsFile || !dir) {
    process.stderr.write('usage: mocha-run SUITE RESULTS.json DIR [GREP]\n');
    process.exit(2);
  }
  const mocha = new Mocha({ reporter: 'spec', timeout: 20000, ...(grep ? { grep } : {}) });
  for (const file of findTests(resolve(dir))) mocha.addFile(file);
  await mocha.loadFilesAsync();
  const runner = mocha.run();
  await new Promise<void>((done) => runner.on('end', () => done()));
  const stats = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
  const counts: SuiteCounts = {
    suite,
    passed: stats.passes,
    failed: stats.failures,
    pending: stats.pending,
  };
  writeFileSync(resultsFile, JSON.stringify(counts) + '\n');
  // Mocha leaves handles (servers, sockets) to the tests; a suite is over when it ends.
  process.exit(counts.failed > 0 ? 1 : 0);
}

void main();

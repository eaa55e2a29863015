// Writes the Metrics section of README.md from the metrics registry (run after
// `npm run build`). `--check` exits 1 instead of writing when it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { spliceReadmeMetrics } from '../dist/lib/serve/metrics-docs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const readme = join(root, 'README.md');
const have = readFileSync(readme, 'utf8');
const options = (await prettier.resolveConfig(readme)) ?? {};
const want = await prettier.format(spliceReadmeMetrics(have), { ...options, parser: 'markdown' });
if (have === want) process.exit(0);
if (check) {
  console.error(`${readme} is stale: run \`npm run docs:metrics\``);
  process.exit(1);
}
writeFileSync(readme, want);
console.log(`wrote ${readme}`);

// Writes the SVG plots of bench/results/*.json into docs/benchmarks/ and their figures into
// docs/benchmarks.md (between its markers). Run after `npm run build`. `--check` exits 1
// instead of writing when anything is stale (a plot missing, differing or no longer made);
// `--docs DIR` and `--results DIR` point at other copies (tests).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import {
  figures,
  figuresMarkdown,
  renderBarChart,
  spliceBenchmarks,
} from '../dist/bench/plots/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: flags } = parseArgs({
  options: { check: { type: 'boolean' }, docs: { type: 'string' }, results: { type: 'string' } },
});
const docs = flags.docs ?? join(root, 'docs');
const resultsDir = flags.results ?? join(root, 'bench/results');
const plots = join(docs, 'benchmarks');

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const results = Object.fromEntries(
  readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [basename(f, '.json'), JSON.parse(readFileSync(join(resultsDir, f), 'utf8'))]),
);
const figs = figures(results);
const markdown = join(docs, 'benchmarks.md');
const options = (await prettier.resolveConfig(markdown)) ?? {};
const targets = new Map([
  ...figs.map((f) => [join(plots, f.file), renderBarChart(f.chart)]),
  [
    markdown,
    await prettier.format(spliceBenchmarks(read(markdown) ?? '', figuresMarkdown(figs)), {
      ...options,
      parser: 'markdown',
    }),
  ],
]);
let stale = 0;
for (const [path, text] of targets) {
  if (read(path) === text) continue;
  if (flags.check) {
    console.error(`${path} is stale: run \`npm run bench:plots\``);
    stale += 1;
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
// A plot no longer made must not linger beside the document.
for (const f of existsSync(plots) ? readdirSync(plots) : []) {
  const path = join(plots, f);
  if (!f.endsWith('.svg') || targets.has(path)) continue;
  if (flags.check) {
    console.error(`${path} is no longer generated: run \`npm run bench:plots\``);
    stale += 1;
  } else {
    rmSync(path);
    console.log(`removed ${path}`);
  }
}
process.exit(stale > 0 ? 1 : 0);

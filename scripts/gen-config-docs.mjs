// Writes docs/config.md and the config section of README.md from the config schema (run
// after `npm run build`). `--check` exits 1 instead of writing when either is stale.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { renderConfigDocs, spliceReadmeConfig } from '../dist/lib/config/docs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

async function formatted(path, text) {
  const options = (await prettier.resolveConfig(path)) ?? {};
  return prettier.format(text, { ...options, parser: 'markdown' });
}

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

const docs = join(root, 'docs/config.md');
const readme = join(root, 'README.md');
const targets = [
  [docs, await formatted(docs, renderConfigDocs())],
  [readme, await formatted(readme, spliceReadmeConfig(read(readme)))],
];
let stale = 0;
for (const [path, text] of targets) {
  if (read(path) === text) continue;
  if (check) {
    console.error(`${path} is stale: run \`npm run docs:config\``);
    stale += 1;
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
process.exit(stale > 0 ? 1 : 0);

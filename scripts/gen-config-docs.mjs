// Writes docs/config.md from the config schema (run after `npm run build`).
// `--check` exits 1 instead of writing when the file is stale.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { renderConfigDocs } from '../dist/lib/config/docs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'docs/config.md');
const options = (await prettier.resolveConfig(target)) ?? {};
const text = await prettier.format(renderConfigDocs(), { ...options, parser: 'markdown' });
if (process.argv.includes('--check')) {
  let old = '';
  try {
    old = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (old !== text) {
    console.error('docs/config.md is stale: run `node scripts/gen-config-docs.mjs`');
    process.exit(1);
  }
} else {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}

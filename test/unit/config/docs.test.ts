import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import {
  configJsonSchema,
  renderConfigDocs,
  spliceReadmeConfig,
} from '../../../lib/config/index.js';

// dist/test/unit/config → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

describe('config/docs', () => {
  it('docs/config.md is up to date with the schema (regenerate: node scripts/gen-config-docs.mjs)', async () => {
    const target = join(root, 'docs/config.md');
    const options = (await prettier.resolveConfig(target)) ?? {};
    const want = await prettier.format(renderConfigDocs(), { ...options, parser: 'markdown' });
    expect(readFileSync(target, 'utf8')).to.equal(want);
  });

  it('README.md carries the same reference between its markers (regenerate: npm run docs:config)', async () => {
    const target = join(root, 'README.md');
    const have = readFileSync(target, 'utf8');
    const options = (await prettier.resolveConfig(target)) ?? {};
    const want = await prettier.format(spliceReadmeConfig(have), {
      ...options,
      parser: 'markdown',
    });
    expect(have).to.equal(want);
    expect(have).to.contain('| `gracefulTermination.timeout` |');
  });

  it('documents every field of the schema with its default', () => {
    const text = renderConfigDocs();
    const props = configJsonSchema().properties as Record<string, { default?: unknown }>;
    for (const [name, p] of Object.entries(props)) {
      const row = text.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, name).to.be.a('string');
      if ('default' in p) expect(row).to.contain(`\`${JSON.stringify(p.default)}\``);
    }
    expect(text).to.contain('`gracefulTermination.timeout`');
    expect(text).to.contain('`services[].match.labels`');
  });
});

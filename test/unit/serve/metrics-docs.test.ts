import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { createMetrics, describeMetrics } from '../../../lib/serve/metrics.js';
import { renderMetricsReference, spliceReadmeMetrics } from '../../../lib/serve/metrics-docs.js';

// dist/test/unit/serve → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

describe('serve/metrics-docs', () => {
  it('README.md lists the metrics as the registry has them (regenerate: npm run docs:metrics)', async () => {
    const target = join(root, 'README.md');
    const have = readFileSync(target, 'utf8');
    const options = (await prettier.resolveConfig(target)) ?? {};
    const want = await prettier.format(spliceReadmeMetrics(have), {
      ...options,
      parser: 'markdown',
    });
    expect(have).to.equal(want);
  });

  it('has one row per metric with its type, labels and help', () => {
    const text = renderMetricsReference();
    for (const m of describeMetrics(createMetrics().registry)) {
      const row = text.split('\n').find((l) => l.startsWith(`| \`${m.name}\` |`));
      expect(row, m.name).to.be.a('string');
      expect(row).to.contain(`| ${m.type} |`);
      for (const l of m.labels) expect(row).to.contain(`\`${l}\``);
    }
  });
});

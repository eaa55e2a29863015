// The bundled programs (scripts/bundle.mjs) as V8 keeps them for the process's life.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type CommandError } from '../../harness/exec.js';

// dist/test/unit/delivery → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const bundle = join(root, 'dist/bundle');

describe('bundle', () => {
  it('is ASCII, so V8 holds each module source as one-byte text (half the heap of two-byte)', () => {
    const files = readdirSync(bundle).filter((f) => f.endsWith('.js'));
    expect(files).to.include('kube-ipvs.js');
    for (const f of files) {
      const text = readFileSync(join(bundle, f), 'utf8');
      const at = text.search(/[\u0080-\uffff]/);
      const around = JSON.stringify(text.slice(Math.max(0, at - 40), at + 10));
      expect(at, `${f}: ${around}`).to.equal(-1);
    }
  });

  it('means what the source means where a character was escaped (both micro signs of Go)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-bundle-'));
    try {
      const config = join(dir, 'config.yaml');
      // U+03BC and U+00B5, escaped in the bundle's regular expression: both must parse, or
      // check would name the unit instead of comparing the two durations.
      writeFileSync(
        config,
        'apiVersion: kube-ipvs.io/v1alpha1\nkind: KubeIpvsConfiguration\n' +
          'minSyncPeriod: 1500\u03bcs\nsyncPeriod: 2\u00b5s\n',
      );
      const e = await run(process.execPath, [
        join(root, 'bin/kube-ipvs.js'),
        'check',
        '--config',
        config,
      ]).then(
        () => expect.fail('check accepted minSyncPeriod above syncPeriod'),
        (err: unknown) => err as CommandError,
      );
      expect(e.stderr + e.stdout).to.contain(
        'minSyncPeriod: expected at most syncPeriod (0.002ms)',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

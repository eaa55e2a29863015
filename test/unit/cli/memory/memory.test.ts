// The daemon's heap policy (lib/cli/memory.ts): its full collection after a full sync.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));

describe('cli/memory heap policy', function () {
  this.timeout(30_000);

  it('collect() frees an object nothing reaches, which was still there before it', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(here, 'heap-child.js')], {
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).to.deep.equal({ before: true, after: false });
  });
});

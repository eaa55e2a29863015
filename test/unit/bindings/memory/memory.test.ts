import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setMallocArenaMax } from '../../../../bindings/memory.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Arenas {
  taken?: boolean;
  before: number;
  after: number;
}

async function arenasAround(mode: 'cap' | 'none'): Promise<Arenas> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(here, 'arenas-child.js'), mode],
    { timeout: 30_000 },
  );
  return JSON.parse(stdout) as Arenas;
}

describe('malloc arena cap (native/memory.c)', function () {
  this.timeout(60_000);

  it('makes threads that start allocating after it share the arenas there are', async () => {
    // The control first: without the cap the workers get arenas of their own, so the
    // capped run below shows the cap, not a C library that never made any.
    const free = await arenasAround('none');
    expect(free.after, 'arenas without the cap').to.be.greaterThan(free.before);
    const capped = await arenasAround('cap');
    expect(capped.taken).to.equal(true);
    expect(capped.after, 'arenas with the cap').to.equal(capped.before);
  });

  it('refuses a count below 1', () => {
    expect(() => setMallocArenaMax(0)).to.throw(RangeError, 'at least 1');
  });
});

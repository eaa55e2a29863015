// Child of memory.test.ts: the heap policy changes V8 flags for the whole process, so it
// is applied here, not in the test runner. Prints whether an object that only a WeakRef
// still reaches is gone after collect() (and, as the control, before it).
import { setTimeout as sleep } from 'node:timers/promises';
import { setHeapPolicy } from '../../../../lib/cli/memory.js';

function orphan(): WeakRef<object> {
  // Big enough to be past the young generation (large-object space), where only a full
  // collection frees it.
  return new WeakRef(new Array<number>(1 << 20).fill(1));
}

const heap = setHeapPolicy();
const ref = orphan();
// A WeakRef's target is kept until the current job ends, and deref() keeps it so again.
await sleep(1);
const before = ref.deref() !== undefined;
await sleep(1);
heap.collect();
await sleep(1);
process.stdout.write(JSON.stringify({ before, after: ref.deref() !== undefined }));

// Child process for memory.test.ts: with the arena cap set (argv[2] "cap") or not, starts
// worker threads that allocate, and reports how many malloc arenas the process had before
// and after them. Each worker is a V8 isolate of its own: its thread mallocs megabytes.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { setMallocArenaMax } from '../../../../bindings/memory.js';

const ARENA_BYTES = 64 * 1024 * 1024;

/**
 * glibc's thread arenas in /proc/self/maps: a heap of HEAP_MAX_SIZE (64 MiB on 64-bit)
 * mapped at once, its used part read-write and the rest PROT_NONE.
 */
function arenas(): number {
  const maps = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((l) => /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ 0\s*$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), perms: m[3] }));
  let n = 0;
  maps.forEach((m, i) => {
    const next = maps[i + 1];
    if (m.perms !== 'rw-p' || next?.perms !== '---p' || next.start !== m.end) return;
    if (next.end - m.start === BigInt(ARENA_BYTES) && m.start % BigInt(ARENA_BYTES) === 0n) n++;
  });
  return n;
}

const taken = process.argv[2] === 'cap' ? setMallocArenaMax(1) : undefined;
const before = arenas();
const workers = Array.from(
  { length: 4 },
  () =>
    new Worker(
      'const { parentPort } = require("node:worker_threads");' +
        'const held = Array.from({ length: 2000 }, () => Buffer.alloc(1024, 1));' +
        'parentPort.postMessage(held.length);',
      { eval: true },
    ),
);
await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
const after = arenas();
await Promise.all(workers.map((w) => w.terminate()));
process.stdout.write(JSON.stringify({ taken, before, after }) + '\n');

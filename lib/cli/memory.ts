// The daemon's memory policy.
//
// V8 heap (`kube-ipvs run`): two flags V8 reads as it collects, so they hold when set at
// run time, and a collection of the daemon's own:
// - Growth: after a full collection V8 lets the old generation grow by a factor of its own
//   choosing (1.1 to 4, about 1.4 at bench scale) before the next one. The daemon holds its
//   tables for its whole life (about 90 MB at 10 000 Services × 10 endpoints), and the
//   garbage of resyncs and changes piles up to that bound, which sets the peak RSS. A fixed
//   15 % collects sooner, at a small cost in collection time.
// - No allocation-site pretenuring: V8 allocates straight into the old generation at a
//   place in the code whose objects mostly survived. At a cold start everything the daemon
//   builds survives (its tables), so code that every resync runs again, the netlink replies
//   among it, went on allocating there: its garbage, and the reply buffers outside the heap
//   that it holds, waited for a full collection. After a resync's dump 11 MB of buffers
//   were waiting, 4 MB without pretenuring.
// - A full collection when a full sync ends: a resync leaves its garbage (the replaced
//   dump, the translation's temporaries) in the old generation, and the full collection
//   it brings on came later, among the changes that followed. In bench/sync one came
//   about 650 single-endpoint changes after the resyncs, with a 42 ms marking step
//   (--trace-gc), and 3 to 5 changes around it took 15 to 50 ms. Collected at the end of
//   each full sync instead (109 and 139 ms in a traced run, beside a 1.7 s resync), none
//   came in the 1 000 changes that followed: the old generation grew 4 MB over them.
//
// malloc (every kube-ipvs command, from its entry point): glibc gives every thread that
// allocates an arena of its own (up to eight per core), and what one arena frees serves
// only its own threads. V8's helper threads (marking, scavenging, compiling) so held about
// 2.5 MiB each, 12 MiB in all, beside the main thread's. Sharing the arena that exists
// when the process starts took that off the peak RSS without slowing the cold start.
//
// The README's bench section has the figures.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setMallocArenaMax } from '../../bindings/memory.js';
import { NetlinkAddonError } from '../../bindings/netlink/errors.js';

/** Heap growth allowed past the live size before a full collection, in percent. */
export const HEAP_GROWING_PERCENT = 15;

/** The V8 flags of the daemon's heap policy. */
export const HEAP_FLAGS = [
  `--heap-growing-percent=${HEAP_GROWING_PERCENT}`,
  '--no-allocation-site-pretenuring',
] as const;

export interface HeapPolicy {
  /** A full collection, at the end of a full sync. */
  collect(): void;
}

/** Applies the daemon's heap policy (`kube-ipvs run`, before it reads anything). */
export function setHeapPolicy(): HeapPolicy {
  for (const flag of HEAP_FLAGS) setFlagsFromString(flag);
  return { collect: fullCollection() };
}

/**
 * V8's gc(), which a context made after --expose-gc is set has as a global (the process's
 * own context was made before it, without).
 */
function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('V8 exposes no gc() with --expose-gc');
  return () => void (gc as () => unknown)();
}

/**
 * No new malloc arenas: a cap applies to arenas not made yet, so this runs before anything
 * else. Without the addon nothing is capped; the netlink socket, which needs it too,
 * reports why.
 */
export function capMallocArenas(): void {
  try {
    setMallocArenaMax(1);
  } catch (e) {
    if (!(e instanceof NetlinkAddonError)) throw e;
  }
}

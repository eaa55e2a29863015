// The daemon's heap policy. After a full collection V8 lets the old generation grow by a
// factor of its own choosing (1.1 to 4, about 1.4 at bench scale) before the next one. The
// daemon holds its tables for its whole life (about 95 MB at 10 000 Services × 10
// endpoints), and the garbage of resyncs and changes piles up to that bound, which sets
// the peak RSS. A fixed 15 % collects sooner, at a small cost in collection time
// (the README's bench section has the figures).
import { setFlagsFromString } from 'node:v8';

/** Heap growth allowed past the live size before a full collection, in percent. */
export const HEAP_GROWING_PERCENT = 15;

/** Applies the daemon's heap policy; V8 reads it at every full collection. */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

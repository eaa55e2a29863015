// ipvsadm's listing order: glibc qsort (a top-down merge sort in every released glibc that
// Debian ships, 2.36 here) driven by libipvs' comparators, whose subtractions wrap at 32 bits.
// The comparators are not transitive, so only the exact algorithm reproduces the order.

import { AF_INET6, type IpvsDestination, type IpvsService } from '../../../bindings/ipvs/types.js';
import { inetWords } from './inet.js';
import { at } from './at.js';

/** glibc msort_with_tmp: split n1 = n/2, recurse, merge taking the left item when cmp <= 0. */
export function glibcMergeSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const a = items.slice();
  const tmp: T[] = new Array<T>(a.length);
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = Math.floor(n / 2);
    const n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i = lo;
    let j = lo + n1;
    const iEnd = lo + n1;
    const jEnd = lo + n;
    let k = 0;
    while (i < iEnd && j < jEnd) {
      if (cmp(at(a, i), at(a, j)) <= 0) tmp[k++] = at(a, i++);
      else tmp[k++] = at(a, j++);
    }
    while (i < iEnd) tmp[k++] = at(a, i++);
    // Elements left in the right half are already in place.
    for (let x = 0; x < k; x++) a[lo + x] = at(tmp, x);
  };
  sort(0, a.length);
  return a;
}

/** `(int)(a - b)` for two unsigned 32-bit operands. */
function wrap32(a: number, b: number): number {
  return (a - b) | 0;
}

type Words = [number, number, number, number];

// Parsing the address text once per object keeps large sorts cheap.
const wordCache = new WeakMap<object, Words>();

function addrWords(owner: object, family: number, address: string): Words {
  const hit = wordCache.get(owner);
  if (hit) return hit;
  const w: Words =
    address === '' ? [0, 0, 0, 0] : inetWords(family === AF_INET6 ? AF_INET6 : 2, address);
  wordCache.set(owner, w);
  return w;
}

function cmpAddr(
  firstFamily: number,
  a: [number, number, number, number],
  b: [number, number, number, number],
): number {
  // The family test looks only at the left operand, as libipvs does.
  if (firstFamily === AF_INET6) {
    let r = 0;
    for (let i = 0; r === 0 && i < 4; i++) r = wrap32(at(a, i), at(b, i));
    return r;
  }
  return wrap32(a[0], b[0]);
}

/** libipvs ipvs_cmp_services. */
export function compareServices(s1: IpvsService, s2: IpvsService): number {
  let r = wrap32(s1.fwmark >>> 0, s2.fwmark >>> 0);
  if (r !== 0) return r;
  r = s1.family - s2.family;
  if (r !== 0) return r;
  // A fwmark service has no protocol/address/port on the wire; libipvs zeroes them.
  const p1 = s1.fwmark ? 0 : s1.protocol;
  const p2 = s2.fwmark ? 0 : s2.protocol;
  r = p1 - p2;
  if (r !== 0) return r;
  r = cmpAddr(
    s1.family,
    addrWords(s1, s1.family, s1.fwmark ? '' : s1.address),
    addrWords(s2, s2.family, s2.fwmark ? '' : s2.address),
  );
  if (r !== 0) return r;
  return (s1.fwmark ? 0 : s1.port) - (s2.fwmark ? 0 : s2.port);
}

/** libipvs ipvs_cmp_dests. */
export function compareDestinations(d1: IpvsDestination, d2: IpvsDestination): number {
  const r = cmpAddr(
    d1.family,
    addrWords(d1, d1.family, d1.address),
    addrWords(d2, d2.family, d2.address),
  );
  if (r !== 0) return r;
  return d1.port - d2.port;
}

export function sortServices<T extends { service: IpvsService }>(entries: readonly T[]): T[] {
  return glibcMergeSort(entries, (a, b) => compareServices(a.service, b.service));
}

export function sortDestinations<T extends IpvsDestination>(dests: readonly T[]): T[] {
  return glibcMergeSort(dests, compareDestinations);
}

/** Services and, within each, destinations in the order `ipvsadm -L`/`-S` prints them. */
export function sortEntries<
  T extends { service: IpvsService; destinations: readonly IpvsDestination[] },
>(entries: readonly T[]): T[] {
  return sortServices(entries).map((e) => ({
    ...e,
    destinations: sortDestinations(e.destinations),
  }));
}

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

const NO_WORDS: Words = [0, 0, 0, 0];

function addrWords(family: number, address: string): Words {
  return address === '' ? NO_WORDS : inetWords(family === AF_INET6 ? AF_INET6 : 2, address);
}

function cmpAddr(firstFamily: number, a: Words, b: Words): number {
  // The family test looks only at the left operand, as libipvs does.
  if (firstFamily === AF_INET6) {
    let r = 0;
    for (let i = 0; r === 0 && i < 4; i++) r = wrap32(at(a, i), at(b, i));
    return r;
  }
  return wrap32(a[0], b[0]);
}

// The comparators read an address as words; a sort parses each address text once, into
// a key beside its item, rather than once per comparison.
interface ServiceKey {
  fwmark: number;
  family: number;
  protocol: number;
  words: Words;
  port: number;
}

interface DestinationKey {
  family: number;
  words: Words;
  port: number;
}

function serviceKey(s: IpvsService): ServiceKey {
  // A fwmark service has no protocol/address/port on the wire; libipvs zeroes them.
  const fw = s.fwmark !== 0;
  return {
    fwmark: s.fwmark >>> 0,
    family: s.family,
    protocol: fw ? 0 : s.protocol,
    words: fw ? NO_WORDS : addrWords(s.family, s.address),
    port: fw ? 0 : s.port,
  };
}

function destinationKey(d: IpvsDestination): DestinationKey {
  return { family: d.family, words: addrWords(d.family, d.address), port: d.port };
}

function cmpServiceKeys(k1: ServiceKey, k2: ServiceKey): number {
  let r = wrap32(k1.fwmark, k2.fwmark);
  if (r !== 0) return r;
  r = k1.family - k2.family;
  if (r !== 0) return r;
  r = k1.protocol - k2.protocol;
  if (r !== 0) return r;
  r = cmpAddr(k1.family, k1.words, k2.words);
  if (r !== 0) return r;
  return k1.port - k2.port;
}

function cmpDestinationKeys(k1: DestinationKey, k2: DestinationKey): number {
  const r = cmpAddr(k1.family, k1.words, k2.words);
  if (r !== 0) return r;
  return k1.port - k2.port;
}

/** libipvs ipvs_cmp_services. */
export function compareServices(s1: IpvsService, s2: IpvsService): number {
  return cmpServiceKeys(serviceKey(s1), serviceKey(s2));
}

/** libipvs ipvs_cmp_dests. */
export function compareDestinations(d1: IpvsDestination, d2: IpvsDestination): number {
  return cmpDestinationKeys(destinationKey(d1), destinationKey(d2));
}

function sortByKey<T, K>(items: readonly T[], key: (t: T) => K, cmp: (a: K, b: K) => number): T[] {
  const keyed = items.map((item) => ({ item, key: key(item) }));
  return glibcMergeSort(keyed, (a, b) => cmp(a.key, b.key)).map((k) => k.item);
}

export function sortServices<T extends { service: IpvsService }>(entries: readonly T[]): T[] {
  return sortByKey(entries, (e) => serviceKey(e.service), cmpServiceKeys);
}

export function sortDestinations<T extends IpvsDestination>(dests: readonly T[]): T[] {
  return sortByKey(dests, destinationKey, cmpDestinationKeys);
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

// The C library parsers ipvsadm leans on: strtol-based string_to_number, inet_aton, inet_pton.

import { canonicalInet, parseInet4, parseInet6 } from '../../../bindings/inet/index.js';
import { at } from '../format/at.js';

const SPACE = /^[ \t\n\v\f\r]*/;

/** strtol(s, &end, base) over the whole string: value and whether it consumed everything. */
function strtol(
  s: string,
  base: number,
): { value: bigint; consumedAll: boolean; any: boolean; end: number } {
  let i = (SPACE.exec(s)?.[0] ?? '').length;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let b = base;
  if (
    (b === 16 || b === 0) &&
    s[i] === '0' &&
    /[xX]/.test(s[i + 1] ?? '') &&
    /[0-9a-fA-F]/.test(s[i + 2] ?? '')
  ) {
    i += 2;
    b = 16;
  } else if (b === 0) b = s[i] === '0' ? 8 : 10;
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, b);
  const start = i;
  let v = 0n;
  while (i < s.length && digits.includes(at(s, i).toLowerCase())) {
    v = v * BigInt(b) + BigInt(digits.indexOf(at(s, i).toLowerCase()));
    i++;
  }
  const any = i > start;
  if (!any) return { value: 0n, consumedAll: false, any: false, end: 0 };
  return { value: neg ? -v : v, consumedAll: i === s.length, any: true, end: i };
}

const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;

/** ipvsadm string_to_number: -1 unless s is entirely a base-10 number within [min, max]. */
export function stringToNumber(s: string, min: number, max: number): number {
  const r = strtol(s, 10);
  if (!r.any || !r.consumedAll) return -1;
  if (r.value < LONG_MIN || r.value > LONG_MAX) return -1;
  if (r.value < BigInt(min) || r.value > BigInt(max)) return -1;
  return Number(r.value);
}

/** ipvsadm parse_fwmark's acceptance test; null when it would fail. */
export function parseFwmarkValue(s: string): number | null {
  const r = strtol(s, 10);
  if (!r.any || !r.consumedAll) return null;
  if (r.value < LONG_MIN || r.value > LONG_MAX) return null;
  if (r.value <= 0n || r.value > 0xffffffffn) return null;
  return Number(r.value);
}

/** atoi */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  return Number(BigInt.asIntN(32, BigInt(at(m, 1))));
}

/** glibc inet_aton: 1-4 parts, each strtoul base 0, trailing whitespace-started junk allowed. */
export function inetAton(s: string): string | null {
  const parts: bigint[] = [];
  let i = 0;
  for (;;) {
    if (!/[0-9]/.test(s[i] ?? '')) return null;
    const r = strtol(s.slice(i), 0);
    if (!r.any) return null;
    parts.push(r.value);
    i += r.end;
    if (s[i] === '.') {
      if (parts.length >= 4) return null;
      i++;
      continue;
    }
    break;
  }
  if (i < s.length && !/[ \t\n\v\f\r]/.test(at(s, i))) return null;
  if (parts.some((p) => p > 0xffffffffn)) return null;
  let v: bigint;
  const p = parts.map((x) => x);
  switch (p.length) {
    case 1:
      v = at(p, 0);
      break;
    case 2:
      if (at(p, 0) > 0xffn || at(p, 1) > 0xffffffn) return null;
      v = (at(p, 0) << 24n) | at(p, 1);
      break;
    case 3:
      if (at(p, 0) > 0xffn || at(p, 1) > 0xffn || at(p, 2) > 0xffffn) return null;
      v = (at(p, 0) << 24n) | (at(p, 1) << 16n) | at(p, 2);
      break;
    default:
      if (p.some((x) => x > 0xffn)) return null;
      v = (at(p, 0) << 24n) | (at(p, 1) << 16n) | (at(p, 2) << 8n) | at(p, 3);
  }
  const n = Number(v);
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** inet_pton(AF_INET, ...) then inet_ntop; null when not a dotted quad. */
export function ptonV4(s: string): string | null {
  return parseInet4(s) ? (canonicalInet(s) ?? null) : null;
}

/** inet_pton(AF_INET6, ...) then inet_ntop; null when not an IPv6 literal. */
export function ptonV6(s: string): string | null {
  return parseInet6(s) ? (canonicalInet(s) ?? null) : null;
}

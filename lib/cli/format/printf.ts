// The few printf conversions ipvsadm uses, with C semantics (widths count bytes).

/** UTF-8 length in bytes; ASCII (nearly every listing) is counted without encoding. */
export function byteLen(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  }
  return s.length;
}

/** %-Ns */
export function left(s: string, width: number): string {
  const n = byteLen(s);
  return n >= width ? s : s + ' '.repeat(width - n);
}

/** %Ns */
export function right(s: string, width: number): string {
  const n = byteLen(s);
  return n >= width ? s : ' '.repeat(width - n) + s;
}

/** %u of a C unsigned int. */
export function u32(n: number): string {
  return String(n >>> 0);
}

/** %d of a C int. */
export function i32(n: number): string {
  return String(n | 0);
}

const U64 = (1n << 64n) - 1n;
const LOW32 = 0xffffffffn;

/** Value as a C unsigned long long. */
export function u64(n: bigint): bigint {
  return n & U64;
}

/** Low 32 bits: what nla_get_u32 reads from a little-endian u64 attribute. */
export function low32(n: bigint): bigint {
  return n & LOW32;
}

/** ipvsadm print_largenum. */
export function largenum(value: bigint, exact: boolean): string {
  const i = u64(value);
  if (exact) {
    const s = i.toString();
    return right(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (i < 100000000n) return right(i.toString(), 9);
  if (i < 1000000000n) return right((i / 1000n).toString(), 8) + 'K';
  if (i < 100000000000n) return right((i / 1000000n).toString(), 8) + 'M';
  if (i < 100000000000000n) return right((i / 1000000000n).toString(), 8) + 'G';
  return right((i / 1000000000000n).toString(), 8) + 'T';
}

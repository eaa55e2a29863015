// Indexed read that fails loudly instead of yielding undefined (noUncheckedIndexedAccess).

export function at<T>(xs: ArrayLike<T>, i: number): T {
  const v = xs[i];
  if (v === undefined) throw new RangeError(`index ${i} out of range (length ${xs.length})`);
  return v;
}

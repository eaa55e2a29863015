// Tests index into arrays and maps they just built; a missing entry is a test failure.
export function must<T>(v: T | undefined | null, what = 'value'): T {
  if (v === undefined || v === null) throw new Error(`expected a ${what}, got ${String(v)}`);
  return v;
}

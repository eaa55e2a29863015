// Go time.ParseDuration syntax ("30s", "1m30s", "500ms", "1.5h"), the syntax kube-proxy's
// config uses, so existing values carry over. Negative durations are refused: none of the
// settings means anything below zero.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Go's time.Duration is int64 nanoseconds: kube-proxy could not hold a longer value, so
 * neither does this config.
 */
// (2^63-1 ns as the nearest double number of milliseconds.)
export const GO_MAX_DURATION_MS = (2 ** 63 - 1) / 1e6;
export const GO_MAX_DURATION_TEXT = '2562047h47m16.854775807s';

/**
 * setTimeout and setInterval take at most 2^31-1 ms (596h31m23.647s); a longer delay fires
 * at once, so a period used as a timer must fit.
 */
export const TIMER_MAX_MS = 2 ** 31 - 1;

export const GO_DURATION_PATTERN = /^(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

/** Milliseconds (possibly fractional below 1 ms), or undefined if `s` is not a duration. */
export function parseDuration(s: string): number | undefined {
  if (!GO_DURATION_PATTERN.test(s)) return undefined;
  if (s === '0') return 0;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return total;
}

/** Inverse for messages and summaries: 90000 → "1m30s", 0 → "0s", 1500 → "1.5s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let rest = ms;
  let out = '';
  const h = Math.floor(rest / 3_600_000);
  if (h > 0) {
    out += `${h}h`;
    rest -= h * 3_600_000;
  }
  const m = Math.floor(rest / 60_000);
  if (m > 0) {
    out += `${m}m`;
    rest -= m * 60_000;
  }
  if (rest > 0) out += `${Number((rest / 1000).toFixed(3))}s`;
  return out;
}

// What `npm run demo` prints, defined once for the demo that writes it and the test that
// reads it: every line of a step starts with the time elapsed since the demo started, and
// each burst of requests ends in one "answered" line naming who answered how often.

/** "[ 12.3s] " for the time since `t0` (ms since the epoch). */
export function stamp(t0: number, now = Date.now()): string {
  return `[${((now - t0) / 1000).toFixed(1).padStart(5)}s] `;
}

/** Matches a line that stamp() starts, capturing the seconds. */
export const STAMPED = /^\[\s*(\d+\.\d)s\] /;

/** After the stamp, on each line of the daemon's log (which comes at any time). */
export const DAEMON = '  daemon: ';

export interface Answers {
  attempted: number;
  answered: number;
  /** Replies per backend name. */
  byBackend: Record<string, number>;
}

/** "answered 30 of 30: backend-1 10, backend-2 10, backend-3 10", names sorted. */
export function formatAnswers(a: Answers): string {
  const who = Object.entries(a.byBackend)
    .sort(([x], [y]) => x.localeCompare(y, 'en', { numeric: true }))
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  return `answered ${a.answered} of ${a.attempted}: ${who || 'nobody'}`;
}

const ANSWERED = /answered (\d+) of (\d+): (.*)$/;

/** Reads back a formatAnswers() line (anywhere in `line`); undefined if it is not one. */
export function parseAnswers(line: string): Answers | undefined {
  const m = ANSWERED.exec(line);
  if (!m) return undefined;
  const byBackend: Record<string, number> = {};
  if (m[3] !== 'nobody') {
    for (const part of (m[3] ?? '').split(', ')) {
      const [name = '', n = ''] = part.split(' ');
      byBackend[name] = Number(n);
    }
  }
  return { answered: Number(m[1]), attempted: Number(m[2]), byBackend };
}

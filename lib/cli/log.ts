// Logs on stderr: pino JSON lines for machines (the default, as in a DaemonSet), or one
// plain line per record for people (--log-format text).
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export type LogFormat = 'json' | 'text';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** One JSON record as "2026-12-01T10:00:00.000Z INFO msg key=value …". */
export function textLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString() : '';
  const level = LEVEL_NAMES[Number(rec.level)] ?? String(rec.level);
  const fields = Object.entries(rec)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [time, level, String(rec.msg ?? ''), ...fields].filter((s) => s !== '').join(' ');
}

export function makeLogger(
  format: LogFormat,
  level: LogLevel,
  write: (text: string) => void,
): Logger {
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString('utf8');
      if (format === 'json') write(text);
      else for (const line of text.split('\n')) if (line !== '') write(`${textLine(line)}\n`);
      done();
    },
  });
  return pino({ level, base: undefined }, dest);
}

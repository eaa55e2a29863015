// What every UML benchmark does inside the boot: run commands, time them, make a fresh
// network namespace (IPVS state is per netns; a flushed one slows the next load, see
// docs/architecture.md), take medians.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function exec(
  cmd: string,
  args: string[],
  input?: string,
  timeoutMs = 900_000,
): Promise<Proc> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    p.on('error', rej);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
    // A command that exits before reading all its input (an error) must be reported by
    // its exit code and stderr, not crash the bench with EPIPE.
    p.stdin.on('error', () => undefined);
    p.stdin.end(input ?? '');
  });
}

export async function must(cmd: string, args: string[], input?: string): Promise<Proc> {
  const r = await exec(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r;
}

let nsCounter = 0;
export async function freshNs(prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${++nsCounter}`;
  await must('ip', ['netns', 'add', name]);
  await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  await must('ip', ['-n', name, 'link', 'add', 'd0', 'type', 'dummy']);
  await must('ip', ['-n', name, 'link', 'set', 'd0', 'up']);
  await must('ip', ['-n', name, 'addr', 'add', '10.255.0.1/8', 'dev', 'd0']);
  await must('ip', ['-n', name, 'route', 'add', 'default', 'dev', 'd0']);
  return name;
}

export async function dropNs(name: string): Promise<void> {
  await must('ip', ['netns', 'exec', name, 'ipvsadm', '-C']);
  await must('ip', ['netns', 'delete', name]);
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

/** Prints the medians as a table and writes bench/results/NAME.json. */
export function report(
  name: string,
  reps: number,
  medians: Readonly<Record<string, number>>,
  result: unknown,
): void {
  const lines = [
    `\nmedians over ${reps} reps (units in the names):`,
    '| run | median |',
    '|---|---|',
  ];
  for (const [k, v] of Object.entries(medians)) lines.push(`| ${k} | ${v.toFixed(2)} |`);
  process.stdout.write(lines.join('\n') + '\n');
  const dir = resolve(fileURLToPath(import.meta.url), '../../../../bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
}

/** `node CHILD ARGS` inside `ns`: its progress (stderr) on our stdout, its JSON result from its stdout. */
export function runJsonChild<T>(
  ns: string,
  child: string,
  label: string,
  args: string[],
): Promise<T> {
  return new Promise((res, rej) => {
    // --expose-gc: a child that is also the load generator collects its own garbage before
    // a timed phase (bench/sync-lib/child.ts).
    // KUBE_IPVS_BENCH_CHILD_FLAGS: more V8 flags for the child.
    const extra = (process.env.KUBE_IPVS_BENCH_CHILD_FLAGS ?? '').split(' ').filter((f) => f);
    const node = [process.execPath, '--expose-gc', ...extra, child, ...args];
    const p = spawn('ip', ['netns', 'exec', ns, ...node], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => process.stdout.write(s));
    p.on('error', rej);
    p.on('close', (code) => {
      if (code !== 0) return rej(new Error(`${label} child: exit ${code}`));
      try {
        res(JSON.parse(out) as T);
      } catch (e) {
        rej(
          new Error(`${label} child: bad output ${JSON.stringify(out)}: ${(e as Error).message}`),
        );
      }
    });
  });
}

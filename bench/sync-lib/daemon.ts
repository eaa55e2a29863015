// `kube-ipvs run` as a real child process whose JSON log lines (stderr) are kept with the
// moment they arrived, so the bench can wait for one ("synced", kind full) and time it.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface LogLine {
  msg?: string;
  kind?: string;
  ops?: number;
  failed?: number;
  durationMs?: number;
  /** Date.now() in the daemon when it logged. */
  time?: number;
  byOp?: Record<string, { ok: number; failed: number }>;
  /** process.hrtime.bigint() in the bench when the line arrived. */
  receivedNs: bigint;
}

interface Waiter {
  from: number;
  match: (l: LogLine) => boolean;
  resolve: (l: LogLine) => void;
}

export class Daemon {
  readonly lines: LogLine[] = [];
  readonly startNs = process.hrtime.bigint();
  private readonly proc: ChildProcess;
  private readonly waiters = new Set<Waiter>();
  private exited: string | undefined;
  private readonly exit: Promise<void>;

  constructor(bin: string, args: readonly string[]) {
    // KUBE_IPVS_BENCH_CPU_PROF=DIR: the daemon writes a V8 CPU profile there when it exits.
    const prof = process.env.KUBE_IPVS_BENCH_CPU_PROF;
    // KUBE_IPVS_BENCH_NODE_FLAGS="--trace-gc ...": more V8 flags for the daemon; its stdout
    // (where V8 traces go) is then kept in KUBE_IPVS_BENCH_NODE_OUT (default /tmp/kube-ipvs-daemon.out).
    const extra = (process.env.KUBE_IPVS_BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
    const node = [...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []), ...extra];
    const stdout =
      extra.length > 0
        ? openSync(process.env.KUBE_IPVS_BENCH_NODE_OUT ?? '/tmp/kube-ipvs-daemon.out', 'w')
        : 'ignore';
    this.proc = spawn(process.execPath, [...node, bin, 'run', ...args], {
      stdio: ['ignore', stdout, 'pipe'],
    });
    this.exit = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => {
        this.exited = `exit ${code ?? signal}`;
        resolve();
      }),
    );
    if (!this.proc.stderr) throw new Error('kube-ipvs run: no stderr pipe');
    const rl = createInterface({ input: this.proc.stderr });
    rl.on('line', (text) => {
      const receivedNs = process.hrtime.bigint();
      let line: LogLine;
      try {
        line = { ...(JSON.parse(text) as Omit<LogLine, 'receivedNs'>), receivedNs };
      } catch {
        line = { msg: text, receivedNs };
      }
      this.lines.push(line);
      for (const w of this.waiters)
        if (w.match(line)) {
          this.waiters.delete(w);
          w.resolve(line);
        }
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** The first line from index `from` on that matches; rejects after timeoutMs or on exit. */
  async next(match: (l: LogLine) => boolean, from: number, timeoutMs: number): Promise<LogLine> {
    const seen = this.lines.slice(from).find(match);
    if (seen) return seen;
    let timer: NodeJS.Timeout | undefined;
    let waiter: Waiter | undefined;
    try {
      return await Promise.race([
        new Promise<LogLine>((resolve) => {
          waiter = { from, match, resolve };
          this.waiters.add(waiter);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no such log line in ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
        this.exit.then(() => {
          throw new Error(`kube-ipvs run ended (${this.exited})`);
        }),
      ]);
    } catch (e) {
      const tail = this.lines.slice(-5).map((l) => JSON.stringify({ ...l, receivedNs: undefined }));
      throw new Error(`${(e as Error).message}; last log lines:\n${tail.join('\n')}`, {
        cause: e,
      });
    } finally {
      if (timer) clearTimeout(timer);
      if (waiter) this.waiters.delete(waiter);
    }
  }

  /** Peak and current resident set, MiB, from /proc/PID/status. */
  memory(): { peakMb: number; rssMb: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string): number => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      if (!m) throw new Error(`/proc/${this.pid}/status has no ${field}`);
      return Number(m[1]) / 1024;
    };
    return { peakMb: kb('VmHWM'), rssMb: kb('VmRSS') };
  }

  /** CPU time used so far (user + system), in clock ticks, from /proc/PID/stat. */
  cpuTicks(): number {
    return cpuTicks(`/proc/${this.pid}/stat`);
  }

  async stop(): Promise<void> {
    if (this.exited === undefined) this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exit;
    clearTimeout(timer);
  }
}

/** utime + stime of the process whose stat file this is, in clock ticks. */
export function cpuTicks(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

// Boots User-Mode Linux once to run one command and brings back its output and exit
// status. The host kernel has no IPVS; Debian's UML kernel has it and boots in about
// two seconds with the host filesystem as its root (hostfs), so node and dist/ run
// inside unchanged. Results travel through files in a temp dir on the host fs, because
// the UML console mixes kernel messages into anything printed there.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readSync, closeSync, readFileSync } from 'node:fs';
import { readdirSync, rmSync, writeFileSync, chmodSync, fstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StringDecoder } from 'node:string_decoder';

export const UML_MARKER = 'KUBE_IPVS_IN_UML';

export interface UmlRunOptions {
  command: string;
  args?: readonly string[];
  /** Working directory inside UML (the same path as on the host); default process.cwd(). */
  cwd?: string;
  /** Extra environment for the command, on top of the passed-through subset. */
  env?: Readonly<Record<string, string>>;
  /** Whole boot, command and halt; default 10 minutes. */
  timeoutMs?: number;
  /** UML mem= value; default '1G'. */
  memory?: string;
  /**
   * Host CPU to pin UML to (docs/architecture.md: unpinned runs are 4–5× slower); default
   * $KUBE_IPVS_UML_CPU or 0; null: no pinning.
   */
  cpu?: number | null;
  /** Receives the command's combined stdout/stderr while it runs. */
  onOutput?: (text: string) => void;
  /** Throw a UmlError when the command exits non-zero; default true. */
  check?: boolean;
}

export interface UmlRunResult {
  exitCode: number;
  /** The command's combined stdout and stderr. */
  output: string;
  /** The UML kernel console. */
  console: string;
  durationMs: number;
  /** The UML kernel's host pid (for leak checks); undefined if it ended before it was seen. */
  umlPid: number | undefined;
}

export type UmlFailure = 'unavailable' | 'boot' | 'timeout' | 'lost' | 'exit';

export class UmlError extends Error {
  /** The UML kernel's host pid, when it got that far (for leak checks). */
  umlPid: number | undefined;
  constructor(
    readonly kind: UmlFailure,
    message: string,
    readonly output = '',
    readonly consoleText = '',
  ) {
    super(
      message +
        (output ? `\n--- command output (tail) ---\n${tail(output, 40)}` : '') +
        (consoleText ? `\n--- UML console (tail) ---\n${tail(consoleText, 40)}` : ''),
    );
    this.name = 'UmlError';
  }
}

export function tail(text: string, lines: number): string {
  const all = text.replace(/\s+$/, '').split('\n');
  return all.slice(Math.max(0, all.length - lines)).join('\n');
}

// scripts/uml-kernel.sh puts a UML that boots here (linux.uml and modules/) when the
// system's does not boot on this host as it is; the system's is used otherwise.
const cachedUml = resolve(dirname(fileURLToPath(import.meta.url)), '../../../.cache/uml');

export function umlBinary(): string {
  if (process.env.KUBE_IPVS_UML_BINARY) return process.env.KUBE_IPVS_UML_BINARY;
  const cached = join(cachedUml, 'linux.uml');
  return existsSync(cached) ? cached : '/usr/bin/linux.uml';
}

/** The UML kernel's modules, one directory per kernel release, beside its binary. */
export function umlModulesRoot(): string {
  const bin = umlBinary();
  return bin === join(cachedUml, 'linux.uml') ? join(cachedUml, 'modules') : '/usr/lib/uml/modules';
}

/** Why UML cannot run here, or undefined when it can. */
export function umlUnavailableReason(): string | undefined {
  if (process.env[UML_MARKER] === '1') return 'already inside User-Mode Linux';
  if (process.platform !== 'linux') return `UML needs a Linux host, not ${process.platform}`;
  if (!existsSync(umlBinary())) {
    return `${umlBinary()} is missing: run scripts/system-deps.sh (Debian package user-mode-linux)`;
  }
  const release = umlKernelRelease();
  if (!release) return `${umlModulesRoot()} has no kernel modules for UML`;
  return undefined;
}

function umlKernelRelease(): string | undefined {
  try {
    return readdirSync(umlModulesRoot()).sort().pop();
  } catch {
    return undefined;
  }
}

// CPU 0 unless KUBE_IPVS_UML_CPU names another: runs sharing the host can spread out.
function defaultCpu(): number {
  const env = process.env.KUBE_IPVS_UML_CPU;
  return env !== undefined && /^\d+$/.test(env) ? Number(env) : 0;
}

// Single quotes make every byte but the quote itself literal to sh.
function shq(value: string): string {
  if (value.includes('\0')) throw new Error('NUL byte in a UML command argument');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// Host paths that UML hides behind its own mounts: files there would not reach the host.
const hiddenInside = ['/run', '/proc', '/sys', '/dev', '/lib/modules'];

function hostTempRoot(): string {
  const dir = tmpdir();
  return hiddenInside.some((p) => dir === p || dir.startsWith(`${p}/`)) ? '/tmp' : dir;
}

const passThroughEnv = ['HOME', 'LANG', 'LC_ALL', 'TZ', 'NODE_OPTIONS', 'NODE_PATH', 'NO_COLOR'];

function commandEnv(options: UmlRunOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (passThroughEnv.includes(key) || key.startsWith('KUBE_IPVS_')) env[key] = value;
  }
  // The node running the harness runs inside too, first in PATH, so `node` means the same.
  const sbin = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  env.PATH = `${dirname(process.execPath)}:${sbin}`;
  env.HOME ??= '/root';
  Object.assign(env, options.env ?? {});
  env[UML_MARKER] = '1';
  for (const key of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`bad environment name ${key}`);
  }
  return env;
}

function initScript(dir: string, options: UmlRunOptions): string {
  const env = commandEnv(options);
  const cwd = options.cwd ?? process.cwd();
  const argv = [options.command, ...(options.args ?? [])];
  const envArgs = Object.entries(env).map(([k, v]) => shq(`${k}=${v}`));
  return `#!/bin/sh
# Generated by test/harness/uml.ts for one UML boot. Runs as PID 1: it must never exit,
# only halt, or the UML kernel panics instead of reporting.
d=${shq(dir)}
setup() {
  mount -t proc proc /proc &&
  mount -t sysfs sysfs /sys &&
  # ip netns keeps its state under /run: a tmpfs keeps it inside UML, off the host.
  mount -t tmpfs -o mode=0755 tmpfs /run &&
  { [ -d /lib/modules ] || mkdir /lib/modules; } &&
  mount -t tmpfs tmpfs /lib/modules &&
  r=$(uname -r) &&
  mkdir -p "/lib/modules/$r" &&
  mount --bind ${shq(umlModulesRoot())}"/$r" "/lib/modules/$r" &&
  ip link set lo up
}
if setup >"$d/init.log" 2>&1; then
  : >"$d/booted"
  ( cd ${shq(cwd)} && exec env -i ${envArgs.join(' ')} ${argv.map(shq).join(' ')} ) \\
    >"$d/output" 2>&1 </dev/null
  echo $? >"$d/status.tmp" && mv "$d/status.tmp" "$d/status"
fi
sync
halt -f
`;
}

interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  comm: string;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const rest = text.slice(close + 2).split(' ');
    return { pid, comm, ppid: Number(rest[1]), pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** Host processes still alive in the process group UML made for itself. */
export function umlProcessesLeft(umlPid: number): number[] {
  return allStats()
    .filter((s) => s.pgrp === umlPid && s.comm.startsWith('linux'))
    .map((s) => s.pid);
}

// UML puts itself in a process group of its own; a SIGKILLed UML can leave helper
// processes of that group behind. Only ever touches that group, pid by pid.
function killUmlLeftovers(umlPid: number): number {
  let killed = 0;
  for (const s of allStats()) {
    if (s.pgrp !== umlPid || !s.comm.startsWith('linux')) continue;
    try {
      process.kill(s.pid, 'SIGKILL');
      killed += 1;
    } catch {
      // already gone
    }
  }
  return killed;
}

class Tailer {
  private offset = 0;
  private readonly decoder = new StringDecoder('utf8');
  text = '';
  constructor(
    private readonly path: string,
    private readonly sink?: (text: string) => void,
  ) {}
  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(64 * 1024);
      while (this.offset < size) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        this.emit(this.decoder.write(buf.subarray(0, n)));
      }
    } finally {
      closeSync(fd);
    }
  }
  finish(): void {
    this.poll();
    this.emit(this.decoder.end());
  }
  private emit(s: string): void {
    if (!s) return;
    this.text += s;
    this.sink?.(s);
  }
}

const consoleLimit = 512 * 1024;

/**
 * Boots UML, runs the command inside, halts. Resolves when the command ran to the end
 * (rejects on a non-zero exit when `check` is left on); rejects with a UmlError carrying
 * the console's tail when UML is missing, does not boot, hangs or loses the command.
 */
export async function runInUml(options: UmlRunOptions): Promise<UmlRunResult> {
  const unavailable = umlUnavailableReason();
  if (unavailable) throw new UmlError('unavailable', `cannot boot UML: ${unavailable}`);
  const timeoutMs = options.timeoutMs ?? 600_000;
  const dir = mkdtempSync(join(hostTempRoot(), 'kube-ipvs-uml-'));
  try {
    const init = join(dir, 'init.sh');
    writeFileSync(init, initScript(dir, options));
    chmodSync(init, 0o755);
    writeFileSync(join(dir, 'output'), '');
    const umlArgs = [
      `mem=${options.memory ?? '1G'}`,
      // Keeps UML's umid directory (pid file, mconsole socket) in our temp dir.
      `uml_dir=${join(dir, 'uml')}`,
      'rootfstype=hostfs',
      'rootflags=/',
      'rw',
      `init=${init}`,
      'con=null',
      'con0=fd:0,fd:1',
    ];
    const cpu = options.cpu === undefined ? defaultCpu() : options.cpu;
    const pinned = cpu === null ? [umlBinary()] : ['taskset', '-c', String(cpu), umlBinary()];
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const argv = ['--kill-after=5', `${seconds}s`, ...pinned, ...umlArgs];
    return await boot(dir, argv, timeoutMs, options);
  } finally {
    if (process.env.KUBE_IPVS_KEEP_UML_DIR !== '1') rmSync(dir, { recursive: true, force: true });
  }
}

function boot(
  dir: string,
  argv: string[],
  timeoutMs: number,
  options: UmlRunOptions,
): Promise<UmlRunResult> {
  const started = Date.now();
  const output = new Tailer(join(dir, 'output'), options.onOutput);
  return new Promise((resolve, rejectRaw) => {
    const reject = (err: UmlError): void => {
      err.umlPid = umlPid;
      rejectRaw(err);
    };
    const child = spawn('timeout', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let consoleText = '';
    const onConsole = (chunk: Buffer): void => {
      consoleText += chunk.toString('utf8');
      if (consoleText.length > consoleLimit) consoleText = consoleText.slice(-consoleLimit / 2);
    };
    child.stdout.on('data', onConsole);
    child.stderr.on('data', onConsole);
    let umlPid: number | undefined;
    let ownTimeout = false;
    const findUml = (): void => {
      if (umlPid !== undefined || child.pid === undefined) return;
      const found = allStats().find((s) => s.ppid === child.pid);
      if (found) umlPid = found.pid;
    };
    const poller = setInterval(() => {
      findUml();
      output.poll();
    }, 200);
    // Backstop for a `timeout` that itself got stuck: signal our own child only.
    const guard = setTimeout(() => {
      ownTimeout = true;
      if (umlPid !== undefined) safeKill(umlPid, 'SIGKILL');
      safeKill(child.pid, 'SIGKILL');
    }, timeoutMs + 15_000);
    const onExit = (): void => {
      if (umlPid !== undefined) safeKill(umlPid, 'SIGTERM');
      safeKill(child.pid, 'SIGTERM');
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      onExit();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.on('exit', onExit);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const done = (): void => {
      clearInterval(poller);
      clearTimeout(guard);
      process.off('exit', onExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      output.finish();
    };
    child.on('error', (err) => {
      done();
      reject(new UmlError('boot', `cannot start timeout/taskset/linux.uml: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      done();
      if (umlPid !== undefined) {
        const killed = killUmlLeftovers(umlPid);
        if (killed > 0) consoleText += `\n[harness] killed ${killed} leftover UML process(es)\n`;
      }
      const durationMs = Date.now() - started;
      const how = signal ? `signal ${signal}` : `exit ${code}`;
      const statusFile = join(dir, 'status');
      if (existsSync(statusFile)) {
        const exitCode = Number(readFileSync(statusFile, 'utf8').trim());
        const result = { exitCode, output: output.text, console: consoleText, durationMs, umlPid };
        if (exitCode !== 0 && options.check !== false) {
          const what = exitCode > 128 ? `was killed by signal ${exitCode - 128}` : 'failed';
          reject(
            new UmlError(
              'exit',
              `${options.command} ${what} inside UML (exit status ${exitCode})`,
              output.text,
              consoleText,
            ),
          );
        } else {
          resolve(result);
        }
        return;
      }
      if (code === 124 || code === 137 || ownTimeout) {
        reject(
          new UmlError(
            'timeout',
            `UML did not finish within ${timeoutMs} ms (${how}); the command hung or UML stalled`,
            output.text,
            consoleText,
          ),
        );
        return;
      }
      if (!existsSync(join(dir, 'booted'))) {
        const initLog = existsSync(join(dir, 'init.log'))
          ? readFileSync(join(dir, 'init.log'), 'utf8')
          : '(init never ran)';
        reject(
          new UmlError(
            'boot',
            `UML did not boot to the command (${how}); init log:\n${initLog}`,
            '',
            consoleText,
          ),
        );
        return;
      }
      reject(
        new UmlError(
          'lost',
          `UML stopped (${how}) before the command reported an exit status`,
          output.text,
          consoleText,
        ),
      );
    });
  });
}

function safeKill(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

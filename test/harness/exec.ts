// One way to run an external command from the harness: an argument array (never a
// shell string), a hard time limit, and an error that carries stderr, so a failing
// `ip` or `ipvsadm` call explains itself in the test report.
import { spawn } from 'node:child_process';

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stdout: string,
    readonly stderr: string,
    reason: string,
  ) {
    super(`${argv.join(' ')}: ${reason}${stderr.trim() ? `\n${stderr.trim()}` : ''}`);
    this.name = 'CommandError';
  }
}

export function run(
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const argv = [cmd, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError(argv, null, null, stdout, stderr, err.message));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new CommandError(argv, code, signal, stdout, stderr, `timed out after ${timeoutMs} ms`),
        );
      } else if (code !== 0) {
        const why = signal ? `killed by ${signal}` : `exit status ${code}`;
        reject(new CommandError(argv, code, signal, stdout, stderr, why));
      } else {
        resolve({ stdout, stderr });
      }
    });
    // A command that never reads stdin must not fail the run with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

// A system command through execFile (an argument array, never a shell), with its input on
// stdin, bounded in time; a failure carries the command's stderr.
import { execFile } from 'node:child_process';

export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
    cause: string,
  ) {
    super(`${[command, ...args].join(' ')}: ${stderr.trim() || cause}`);
  }
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export function runCommand(
  command: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      [...args],
      { timeout: options.timeoutMs ?? 30_000, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr });
          return;
        }
        const code = typeof error.code === 'number' ? error.code : null;
        reject(new CommandFailed(command, args, stderr, code, error.message));
      },
    );
    // A command that exits before reading its input closes the pipe: that is its error to
    // report (through the exit status), not a crash here.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

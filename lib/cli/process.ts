// The shell around a command-line program (kube-ipvs, lvsadm): its output streams and its
// last word. A reader that goes away (`| head -1`: EPIPE) ends the output quietly; any other
// failed write (ENOSPC on a full disk) is one line on stderr and exit 1; an exception nobody
// expected is one line "internal error" and exit 70 (EX_SOFTWARE). Never a stack trace.
import { writeSync } from 'node:fs';
import { systemErrorReason } from '../system-error.js';

/** sysexits.h EX_SOFTWARE: an internal software error. */
export const EXIT_INTERNAL = 70;

export interface ProcessOutput {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Resolves once every write so far has been flushed or has failed. */
  settled(): Promise<void>;
  /** True once a stdout write failed for a reason other than the reader leaving. */
  readonly failed: boolean;
}

function errorMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  // One line, whatever the message holds.
  return text.split('\n')[0] ?? text;
}

/** Writes straight to fd 2, for the moments the stream machinery cannot be trusted. */
function lastLine(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr itself is gone: nothing left to tell anyone.
  }
}

export function processOutput(
  program: string,
  streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): ProcessOutput {
  let pending = 0;
  let waiters: Array<() => void> = [];
  let stdoutDone = false;
  let stderrDone = false;
  let failed = false;

  const stdoutFailed = (e: unknown): void => {
    if (stdoutDone) return;
    stdoutDone = true;
    if ((e as NodeJS.ErrnoException | null)?.code === 'EPIPE') return;
    failed = true;
    out.stderr(`${program}: writing output: ${systemErrorReason(e)}\n`);
  };
  // The stream also emits 'error' for a failed write; unhandled, that is a crash.
  streams.stdout.on('error', stdoutFailed);
  streams.stderr.on('error', () => {
    stderrDone = true;
  });

  const write = (stream: NodeJS.WritableStream, text: string, onError: (e: unknown) => void) => {
    pending++;
    stream.write(text, (e) => {
      if (e) onError(e);
      pending--;
      if (pending > 0) return;
      const ready = waiters;
      waiters = [];
      for (const w of ready) w();
    });
  };

  const out: ProcessOutput = {
    stdout(text) {
      if (!stdoutDone && text !== '') write(streams.stdout, text, stdoutFailed);
    },
    stderr(text) {
      if (stderrDone || text === '') return;
      write(streams.stderr, text, () => {
        stderrDone = true;
      });
    },
    settled() {
      if (pending === 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    get failed() {
      return failed;
    },
  };
  return out;
}

/**
 * Runs `body` as the whole program: its resolved number is the exit code, unless writing the
 * output failed (1) or anything threw (70, with one line naming the error).
 */
export async function runProgram(
  program: string,
  body: (out: ProcessOutput) => Promise<number>,
): Promise<void> {
  const internal = (e: unknown): void => {
    lastLine(`${program}: internal error: ${errorMessage(e)}\n`);
    process.exit(EXIT_INTERNAL);
  };
  // Exceptions from callbacks and promises nobody awaits: nothing can be trusted after one.
  process.on('uncaughtException', internal);
  process.on('unhandledRejection', internal);
  const out = processOutput(program);
  let code: number;
  try {
    code = await body(out);
  } catch (e) {
    await out.settled();
    internal(e);
    return;
  }
  await out.settled();
  // exitCode, not exit(): the process ends when the event loop is empty.
  process.exitCode = out.failed ? 1 : code;
}

// Drives hold-client.js: a TCP connection held open through a virtual server that a test
// can ask to answer again later (after a restart, while its real server drains) and
// close. Every one is a child process killed by pid in closeAllHeld() (an after hook).
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EchoReply } from './echo-server.js';
import type { HoldEvent } from './hold-client.js';
import type { Netns } from './netns.js';

export const holdClientScript = join(dirname(fileURLToPath(import.meta.url)), 'hold-client.js');

export interface HeldConnection {
  /** The reply to the connection itself: which backend holds it. */
  readonly first: EchoReply;
  /** Sends a line and waits for the next reply (rejects on an error or a close). */
  ask(): Promise<EchoReply>;
  /** Closes the connection (FIN) and waits for the process to exit. */
  close(): Promise<void>;
  /**
   * Aborts the connection (RST) and waits for the process to exit. IPVS keeps a reset
   * connection 10 s (CLOSE state), a closed one 120 s (TIME_WAIT, not settable).
   */
  reset(): Promise<void>;
}

export interface HoldOptions {
  target: string;
  port: number;
  /** Source address to connect from. */
  local?: string;
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();

export async function holdConnection(ns: Netns, options: HoldOptions): Promise<HeldConnection> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const args = [
    holdClientScript,
    '--target',
    options.target,
    '--port',
    String(options.port),
    '--timeout-ms',
    String(timeoutMs),
    ...(options.local ? ['--local', options.local] : []),
  ];
  const child = ns.spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  void exited.then(() => running.delete(child));
  const waiting: Array<(e: HoldEvent) => void> = [];
  const queued: HoldEvent[] = [];
  let out = '';
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n')) {
      const e = JSON.parse(out.slice(0, i)) as HoldEvent;
      out = out.slice(i + 1);
      const w = waiting.shift();
      if (w) w(e);
      else queued.push(e);
    }
  });
  void exited.then(() => {
    for (const w of waiting.splice(0)) w({ event: 'error', message: `exited: ${err.trim()}` });
  });
  const next = (): Promise<HoldEvent> => {
    const q = queued.shift();
    if (q) return Promise.resolve(q);
    if (child.exitCode !== null || child.signalCode !== null)
      return Promise.resolve({ event: 'error', message: `exited: ${err.trim()}` });
    // Bounded by the client's own reply timeout and lifetime.
    return new Promise((r) => waiting.push(r));
  };
  const reply = async (): Promise<EchoReply> => {
    const e = await next();
    if (e.event === 'reply') return e.reply;
    throw new Error(
      `held connection to ${options.target}:${options.port}: ${e.event === 'error' ? e.message : 'closed'}`,
    );
  };
  let first: EchoReply;
  try {
    first = await reply();
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    first,
    ask: () => {
      child.stdin?.write('ask\n');
      return reply();
    },
    close: async () => {
      child.stdin?.end('close\n');
      await exited;
    },
    reset: async () => {
      child.stdin?.end('reset\n');
      await exited;
    },
  };
}

/** Kills every held connection's process that is still running. */
export async function closeAllHeld(): Promise<void> {
  const all = [...running];
  await Promise.all(
    all.map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          c.once('exit', () => r());
          c.kill('SIGKILL');
        }),
    ),
  );
}

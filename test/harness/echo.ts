// Starts echo backends (echo-server.js) inside namespaces and stops them again. Each
// backend is a child process of the test, killed by pid in stopAllEcho() (an after
// hook), and exits on its own after its lifetime even if the test never gets there.
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Netns } from './netns.js';

export const echoServerScript = join(dirname(fileURLToPath(import.meta.url)), 'echo-server.js');

export interface EchoOptions {
  name: string;
  tcpPort?: number;
  udpPort?: number;
  /** Listen address; '::' for dual stack. Default 0.0.0.0. */
  host?: string;
  lifetimeMs?: number;
  startTimeoutMs?: number;
  /** TCP: keep each connection open until the client closes it (see echo-server.ts). */
  keepOpen?: boolean;
}

export interface EchoBackend {
  name: string;
  ns: Netns;
  pid: number;
  tcpPort?: number;
  udpPort?: number;
  stop(): Promise<void>;
}

const running = new Set<EchoBackend>();

export async function startEcho(ns: Netns, options: EchoOptions): Promise<EchoBackend> {
  const args = [echoServerScript, '--name', options.name];
  if (options.tcpPort !== undefined) args.push('--tcp', String(options.tcpPort));
  if (options.udpPort !== undefined) args.push('--udp', String(options.udpPort));
  if (options.host) args.push('--host', options.host);
  if (options.keepOpen) args.push('--keep-open');
  args.push('--lifetime-ms', String(options.lifetimeMs ?? 120_000));
  const child = ns.spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const ports = await waitReady(child, options.name, options.startTimeoutMs ?? 15_000);
  const pid = child.pid ?? 0;
  const backend: EchoBackend = {
    name: options.name,
    ns,
    pid,
    ...ports,
    stop: () => stop(child, backend),
  };
  running.add(backend);
  return backend;
}

function waitReady(
  child: ChildProcess,
  name: string,
  timeoutMs: number,
): Promise<{ tcpPort?: number; udpPort?: number }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`echo backend ${name} not ready after ${timeoutMs} ms: ${err.trim()}`));
    }, timeoutMs);
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const line = out.split('\n').find((l) => l.startsWith('ready '));
      if (!line) return;
      clearTimeout(timer);
      const info = JSON.parse(line.slice(6)) as { tcp?: number; udp?: number };
      resolve({
        ...(info.tcp !== undefined ? { tcpPort: info.tcp } : {}),
        ...(info.udp !== undefined ? { udpPort: info.udp } : {}),
      });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`echo backend ${name} exited (${signal ?? code}) before ready: ${err.trim()}`),
      );
    });
  });
}

function stop(child: ChildProcess, backend: EchoBackend): Promise<void> {
  running.delete(backend);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGKILL');
  });
}

/** Stops every backend still running; for after hooks. */
export async function stopAllEcho(): Promise<void> {
  await Promise.all([...running].map((b) => b.stop()));
}

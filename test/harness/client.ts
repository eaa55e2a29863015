// Runs echo-client.js inside a namespace and returns its report.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Netns } from './netns.js';
import type { ClientReport } from './echo-client.js';

export type { ClientReport } from './echo-client.js';

export const echoClientScript = join(dirname(fileURLToPath(import.meta.url)), 'echo-client.js');

export interface ClientOptions {
  proto: 'tcp' | 'udp';
  target: string;
  port: number;
  count: number;
  /** Per connection / datagram; default 3000 ms. */
  timeoutMs?: number;
  /** For the whole run; default 30000 ms. */
  deadlineMs?: number;
  concurrency?: number;
  /** UDP: send every datagram from one socket (one IPVS flow) instead of one each. */
  sameSocket?: boolean;
  /** TCP: the source address to connect from (one of the namespace's). */
  local?: string;
}

export async function runClient(ns: Netns, options: ClientOptions): Promise<ClientReport> {
  const deadlineMs = options.deadlineMs ?? 30_000;
  const args = [
    '--proto',
    options.proto,
    '--target',
    options.target,
    '--port',
    String(options.port),
    '--count',
    String(options.count),
    '--timeout-ms',
    String(options.timeoutMs ?? 3000),
    '--deadline-ms',
    String(deadlineMs),
    '--concurrency',
    String(options.concurrency ?? 1),
    ...(options.sameSocket ? ['--same-socket'] : []),
    ...(options.local ? ['--local', options.local] : []),
  ];
  const { stdout } = await ns.node(echoClientScript, args, { timeoutMs: deadlineMs + 15_000 });
  return JSON.parse(stdout) as ClientReport;
}

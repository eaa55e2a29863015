// What the tests of `kube-ipvs run` share (kernel tests in UML, host tests of the
// iptables backend): the commands run inside the node's namespace (kube-ipvs, ipvsadm),
// the daemon as a child process with its log, the config file, and bounded polls on the
// node's table (in ipvsadm -Sn syntax, for either backend) and on the log.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommandError } from './exec.js';
import type { Netns } from './netns.js';
import { vsTable, type BackendName } from './vs-table.js';

export const kubeIpvsBin = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../bin/kube-ipvs.js',
);

export interface CommandOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kube-ipvs ARGS` inside `ns`; a non-zero exit is an outcome, not an error. */
export async function kubeIpvs(ns: Netns, args: readonly string[]): Promise<CommandOutcome> {
  try {
    const r = await ns.exec(process.execPath, [kubeIpvsBin, ...args], { timeoutMs: 20_000 });
    return { code: 0, ...r };
  } catch (e) {
    if (e instanceof CommandError && e.exitCode !== null)
      return { code: e.exitCode, stdout: e.stdout, stderr: e.stderr };
    if (e instanceof CommandError)
      throw new Error(`${e.message}\nstdout:\n${e.stdout}`, { cause: e });
    throw e;
  }
}

export async function ipvsadm(ns: Netns, args: readonly string[]): Promise<string> {
  return (await ns.exec('ipvsadm', args)).stdout;
}

/** A config file with the given extra lines; minSyncPeriod 0s, syncPeriod 2s. */
export function writeConfig(file: string, extra = ''): void {
  writeFileSync(
    file,
    `apiVersion: kube-ipvs.io/v1alpha1\nkind: KubeIpvsConfiguration\nminSyncPeriod: 0s\nsyncPeriod: 2s\n${extra}`,
  );
}

/**
 * `ipvsadm -Sn` with each virtual server's block and the real servers inside it sorted, so
 * an expectation need not follow ipvsadm's listing order.
 */
export function canonicalSave(save: string): string {
  const blocks: string[][] = [];
  for (const line of save.split('\n').filter((l) => l !== '')) {
    if (line.startsWith('-A ')) blocks.push([line]);
    else blocks.at(-1)?.push(line);
  }
  return blocks
    .map(([head = '', ...dests]) => [head, ...dests.sort()].join('\n'))
    .sort()
    .map((b) => `${b}\n`)
    .join('');
}

/**
 * Polls until the node's table equals `want` (bounded: 100 tries by default, 100 ms apart). With
 * `canonical`, both sides are compared in canonicalSave's order.
 */
export async function waitForSave(
  ns: Netns,
  want: string,
  options: {
    canonical?: boolean;
    context?: () => string;
    tries?: number;
    backend?: BackendName;
  } = {},
): Promise<void> {
  const norm = options.canonical ? canonicalSave : (s: string) => s;
  let got = '';
  for (let i = 0; i < (options.tries ?? 100); i++) {
    got = norm(await vsTable(options.backend ?? 'ipvs', ns));
    if (got === norm(want)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(got, options.context?.()).to.equal(norm(want));
}

/** One `synced` log line of the daemon (pino JSON). */
export interface SyncedLine {
  kind: 'full' | 'partial' | 'drain';
  ops: number;
  failed: number;
  byOp: Record<string, { ok: number; failed: number }>;
}

/** `kube-ipvs run` as a child process in `ns`, its stderr (the JSON log) collected. */
export class Daemon {
  log = '';
  private child: ChildProcess | undefined;

  constructor(
    private readonly ns: Netns,
    private readonly args: () => readonly string[],
  ) {}

  start(): void {
    this.log = '';
    const child = this.ns.spawn(
      process.execPath,
      [kubeIpvsBin, 'run', ...this.args(), '--log-level', 'debug'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (b: Buffer) => (this.log += b.toString()));
    this.child = child;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  /** Signals the daemon and waits for its exit code. */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    const d = this.child;
    this.child = undefined;
    if (!d || d.exitCode !== null || d.signalCode !== null) return d?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => d.once('exit', (code) => r(code)));
    d.kill(signal);
    return exited;
  }

  /** Where the log is now: pass it to waitForLog or synced to look only at what follows. */
  mark(): number {
    return this.log.length;
  }

  /** Polls the log after `since` for a pattern (bounded: 20 s). */
  async waitForLog(pattern: RegExp, since = 0): Promise<void> {
    const until = Date.now() + 20_000;
    while (!pattern.test(this.log.slice(since)) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    expect(this.log.slice(since)).to.match(pattern);
  }

  /** The `synced` lines logged after `since`. */
  synced(since = 0): SyncedLine[] {
    const out: SyncedLine[] = [];
    for (const line of this.log.slice(since).split('\n')) {
      if (!line.includes('"msg":"synced"')) continue;
      out.push(JSON.parse(line) as SyncedLine);
    }
    return out;
  }
}

/** Polls a condition (bounded: 20 s), failing with the context given. */
export async function waitFor(
  what: string,
  ok: () => Promise<boolean>,
  context?: () => string,
): Promise<void> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect.fail(`timed out waiting for ${what}${context ? `\n${context()}` : ''}`);
}

// Network namespaces for tests: every namespace a test creates is named after this
// process (kit-<pid>-<n>-<label>), kept in a registry and deleted by deleteAllNetns()
// in an after hook, by an exit hook as a last resort, and by sweepStaleNetns() when a
// crashed run left some behind. Nothing here touches a namespace it did not create.
import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { run, type RunOptions, type RunResult } from './exec.js';

const prefix = 'kit';
const registry = new Set<string>();
let counter = 0;
let exitHookInstalled = false;

export function ownedByUs(name: string): boolean {
  return registry.has(name);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const name of registry) {
      try {
        execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore', timeout: 5000 });
      } catch {
        // best effort while exiting
      }
    }
  });
}

export class Netns {
  private constructor(readonly name: string) {}

  /** Creates a namespace with lo up (a fresh one has lo down, docs/architecture.md). */
  static async create(label: string): Promise<Netns> {
    const clean = label.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 24) || 'ns';
    counter += 1;
    const name = `${prefix}-${process.pid}-${counter}-${clean}`;
    installExitHook();
    await run('ip', ['netns', 'add', name]);
    registry.add(name);
    const ns = new Netns(name);
    await ns.ip(['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** `ip -n NAME ...` */
  async ip(args: readonly string[], options?: RunOptions): Promise<string> {
    return (await run('ip', ['-n', this.name, ...args], options)).stdout;
  }

  /** Runs a command inside the namespace (`ip netns exec`). */
  exec(cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], options);
  }

  /** Runs a node script inside the namespace with the node that runs the tests. */
  node(script: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return this.exec(process.execPath, [script, ...args], options);
  }

  /** Starts a long-running command inside the namespace; the caller kills it by pid. */
  spawn(cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, cmd, ...args], options);
  }

  async sysctl(key: string, value: string | number): Promise<void> {
    await this.exec('sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  async readSysctl(key: string): Promise<string> {
    return (await this.exec('sysctl', ['-n', key])).stdout.trim();
  }

  async up(dev: string): Promise<void> {
    await this.ip(['link', 'set', dev, 'up']);
  }

  async addDummy(dev: string): Promise<void> {
    await this.ip(['link', 'add', dev, 'type', 'dummy']);
    await this.up(dev);
  }

  async addBridge(dev: string): Promise<void> {
    await this.ip(['link', 'add', dev, 'type', 'bridge']);
    await this.up(dev);
  }

  async attachToBridge(dev: string, bridge: string): Promise<void> {
    await this.ip(['link', 'set', dev, 'master', bridge]);
  }

  /** Adds an address in CIDR form; IPv6 addresses skip duplicate detection, usable at once. */
  async addAddress(dev: string, cidr: string): Promise<void> {
    const v6 = cidr.includes(':');
    await this.ip([
      ...(v6 ? ['-6'] : []),
      'addr',
      'add',
      cidr,
      'dev',
      dev,
      ...(v6 ? ['nodad'] : []),
    ]);
  }

  /** `ip route add DEST [via GW] [dev DEV]`; DEST may be 'default'. */
  async addRoute(dest: string, route: { via?: string; dev?: string }): Promise<void> {
    const v6 = dest.includes(':') || (route.via ?? '').includes(':');
    const args = [...(v6 ? ['-6'] : []), 'route', 'add', dest];
    if (route.via) args.push('via', route.via);
    if (route.dev) args.push('dev', route.dev);
    await this.ip(args);
  }

  async delete(): Promise<void> {
    if (!registry.has(this.name)) return;
    registry.delete(this.name);
    await run('ip', ['netns', 'delete', this.name]);
  }
}

/**
 * Creates a veth pair with one end in each namespace, both up. Created from inside `a`,
 * so the pair never appears in the caller's own (possibly the host's root) namespace.
 */
export async function vethPair(a: Netns, aDev: string, b: Netns, bDev: string): Promise<void> {
  await a.ip(['link', 'add', aDev, 'type', 'veth', 'peer', 'name', bDev, 'netns', b.name]);
  await a.up(aDev);
  await b.up(bDev);
}

/** Deletes every namespace this process created and has not deleted yet. */
export async function deleteAllNetns(): Promise<string[]> {
  const names = [...registry];
  const errors: string[] = [];
  for (const name of names) {
    registry.delete(name);
    try {
      await run('ip', ['netns', 'delete', name]);
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (errors.length > 0) throw new Error(`could not delete namespaces:\n${errors.join('\n')}`);
  return names;
}

export async function listNetns(): Promise<string[]> {
  const out = (await run('ip', ['netns', 'list'])).stdout;
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes harness namespaces whose creating process is gone (a crashed earlier run). */
export async function sweepStaleNetns(): Promise<string[]> {
  const stale = (await listNetns()).filter((name) => {
    const m = /^kit-(\d+)-\d+-/.exec(name);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  });
  for (const name of stale) await run('ip', ['netns', 'delete', name]);
  return stale;
}

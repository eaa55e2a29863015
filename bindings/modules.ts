// Kernel modules: modprobe through execFile, never a shell, and only for a module the
// kernel does not already have. A fork from the daemon's heap is slow (20-40 ms under
// User-Mode Linux before the process even runs), and modprobe of a module that is loaded
// or built in does nothing: kmod answers "already in the kernel" from the same files read
// here (/proc/modules, /sys/module, modules.builtin). A module that is neither still goes
// to modprobe, which loads it or says why not.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ModprobeResult {
  module: string;
  ok: boolean;
  /** modprobe's stderr (or the spawn error) when it failed. */
  reason?: string;
}

/** What the kernel has: a module loaded (live or coming) or built in. */
export interface KernelModules {
  has(module: string): boolean;
}

/** Where the kernel tells which modules it has; tests point these at files of their own. */
export interface ModulePaths {
  procModules: string;
  sysModule: string;
  /** modules.builtin of the running kernel. */
  builtin: string;
}

export const MODULE_PATHS: ModulePaths = {
  procModules: '/proc/modules',
  sysModule: '/sys/module',
  builtin: `/lib/modules/${release()}/modules.builtin`,
};

/** kmod's spelling of a module name: '-' and '_' are the same. */
export function moduleKey(name: string): string {
  return name.replaceAll('-', '_');
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // absent (no module support, no modules.builtin): nothing known from it
  }
}

/**
 * Names /proc/modules lists as Live or Loading (kmod's "in kernel"; one Unloading is not).
 * A line: "name size refcount deps state address".
 */
export function parseProcModules(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[0] && (f[4] === 'Live' || f[4] === 'Loading')) out.add(moduleKey(f[0]));
  }
  return out;
}

/** Names in modules.builtin ("kernel/net/netfilter/xt_mark.ko" → "xt_mark"). */
export function parseModulesBuiltin(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const base = line.trim().split('/').pop() ?? '';
    if (base.endsWith('.ko')) out.add(moduleKey(base.slice(0, -3)));
  }
  return out;
}

/**
 * The kernel's modules now. /sys/module/NAME without an initstate file is a built-in one
 * (kmod's own test); a loadable one there has initstate and is found in /proc/modules.
 */
export function kernelModules(paths: ModulePaths = MODULE_PATHS): KernelModules {
  const loaded = parseProcModules(readOr(paths.procModules));
  let builtin: Set<string> | undefined;
  return {
    has(module) {
      const key = moduleKey(module);
      if (loaded.has(key)) return true;
      builtin ??= parseModulesBuiltin(readOr(paths.builtin));
      if (builtin.has(key)) return true;
      const dir = `${paths.sysModule}/${key}`;
      return existsSync(dir) && !existsSync(`${dir}/initstate`);
    },
  };
}

export interface ModprobeOptions {
  timeoutMs?: number;
  /** Default: read from the kernel at the call. */
  kernel?: KernelModules;
}

function checkName(module: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(module)) throw new RangeError(`not a module name: ${module}`);
}

async function spawnModprobe(module: string, timeoutMs: number): Promise<ModprobeResult> {
  try {
    await run('modprobe', ['--', module], { timeout: timeoutMs });
    return { module, ok: true };
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    const reason = (err.stderr ?? '').trim() || err.message || String(e);
    return { module, ok: false, reason };
  }
}

export async function modprobe(
  module: string,
  options: ModprobeOptions = {},
): Promise<ModprobeResult> {
  checkName(module);
  if ((options.kernel ?? kernelModules()).has(module)) return { module, ok: true };
  return spawnModprobe(module, options.timeoutMs ?? 10_000);
}

/**
 * Loads the modules the kernel lacks with one `modprobe -a` (one process instead of one
 * each); when that fails, each is tried alone, so one that is missing does not keep the
 * others out and its reason is reported. Nothing missing: no process at all.
 */
export async function modprobeAll(
  modules: readonly string[],
  options: ModprobeOptions = {},
): Promise<ModprobeResult[]> {
  for (const m of modules) checkName(m);
  const kernel = options.kernel ?? (modules.length > 0 ? kernelModules() : undefined);
  const missing = modules.filter((m) => !kernel?.has(m));
  const failed = new Map<string, ModprobeResult>();
  if (missing.length > 0) {
    const timeout = options.timeoutMs ?? 10_000;
    try {
      await run('modprobe', ['-a', '--', ...missing], { timeout });
    } catch {
      for (const m of missing) {
        const r = await spawnModprobe(m, timeout);
        if (!r.ok) failed.set(m, r);
      }
    }
  }
  return modules.map((module) => failed.get(module) ?? { module, ok: true });
}

/** The kernel module of an IPVS scheduler ("rr" → "ip_vs_rr"). */
export function schedulerModule(scheduler: string): string {
  return `ip_vs_${scheduler}`;
}

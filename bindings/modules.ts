// Kernel modules: modprobe through execFile, never a shell.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ModprobeResult {
  module: string;
  ok: boolean;
  /** modprobe's stderr (or the spawn error) when it failed. */
  reason?: string;
}

export async function modprobe(module: string, timeoutMs = 10_000): Promise<ModprobeResult> {
  if (!/^[A-Za-z0-9_-]+$/.test(module)) throw new RangeError(`not a module name: ${module}`);
  try {
    await run('modprobe', ['--', module], { timeout: timeoutMs });
    return { module, ok: true };
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    const reason = (err.stderr ?? '').trim() || err.message || String(e);
    return { module, ok: false, reason };
  }
}

/**
 * Loads several modules with one `modprobe -a` (one process instead of one each: a fork
 * from a large daemon heap is slow); when that fails, each is tried alone, so one that
 * is missing does not keep the others out and its reason is reported.
 */
export async function modprobeAll(
  modules: readonly string[],
  timeoutMs = 10_000,
): Promise<ModprobeResult[]> {
  for (const m of modules)
    if (!/^[A-Za-z0-9_-]+$/.test(m)) throw new RangeError(`not a module name: ${m}`);
  if (modules.length === 0) return [];
  try {
    await run('modprobe', ['-a', '--', ...modules], { timeout: timeoutMs });
    return modules.map((module) => ({ module, ok: true }));
  } catch {
    const out: ModprobeResult[] = [];
    for (const m of modules) out.push(await modprobe(m, timeoutMs));
    return out;
  }
}

/** The kernel module of an IPVS scheduler ("rr" → "ip_vs_rr"). */
export function schedulerModule(scheduler: string): string {
  return `ip_vs_${scheduler}`;
}

// A tool's own version line (`iptables --version`, `ipset version`), read for `kube-ipvs
// check`: what the node offers is reported, not assumed.
import { CommandFailed, runCommand } from './command.js';

export type ToolVersion = { ok: true; line: string } | { ok: false; reason: string };

export async function toolVersion(
  command: string,
  args: readonly string[],
  timeoutMs = 10_000,
): Promise<ToolVersion> {
  try {
    const r = await runCommand(command, args, { timeoutMs });
    const line = (r.stdout.trim() || r.stderr.trim()).split('\n')[0] ?? '';
    return { ok: true, line };
  } catch (e) {
    if (e instanceof CommandFailed && e.exitCode === null && / ENOENT$/.test(e.message))
      return { ok: false, reason: `${command} is not installed` };
    const text = e instanceof CommandFailed ? e.stderr.trim() || e.message : String(e);
    return { ok: false, reason: text.split('\n')[0] ?? '' };
  }
}

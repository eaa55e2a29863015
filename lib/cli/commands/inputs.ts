// The inputs several commands take, read the same way: the config file (--config) and a
// manifests directory (--manifests). Each problem is printed; the caller exits 1.
import { stat } from 'node:fs/promises';
import { loadConfig } from '../../config/load.js';
import { defaultConfig, type KubeIpvsConfig } from '../../config/schema.js';
import { systemErrorReason } from '../../system-error.js';
import type { CommandIo } from './io.js';

export interface LoadedConfig {
  config: KubeIpvsConfig;
  /** Content hash of the file, for a reload watch; undefined for the defaults. */
  hash: string | undefined;
}

/** The config file, or the defaults without one; undefined after printing its errors. */
export async function readConfigFlag(
  file: string | undefined,
  io: CommandIo,
): Promise<LoadedConfig | undefined> {
  if (file === undefined) return { config: defaultConfig(), hash: undefined };
  const r = await loadConfig(file);
  if (!r.ok) {
    for (const e of r.errors) io.stderr(`${e.text}\n`);
    return undefined;
  }
  return { config: r.config, hash: r.hash };
}

/** True when `dir` is a directory; otherwise prints why not, in one line. */
export async function checkDirectory(
  command: string,
  dir: string,
  io: CommandIo,
): Promise<boolean> {
  let reason: string;
  try {
    if ((await stat(dir)).isDirectory()) return true;
    reason = 'not a directory';
  } catch (e) {
    reason = systemErrorReason(e);
  }
  io.stderr(`kube-ipvs ${command}: ${dir}: ${reason}\n`);
  return false;
}

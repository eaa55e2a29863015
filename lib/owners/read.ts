// lvsadm's side of the owner map: read it, or say in one line why there is none.
import { readFile } from 'node:fs/promises';
import { ipvsServiceKey } from '../backends/ipvs/key.js';
import type { IpvsServiceId } from '../../bindings/ipvs/codec.js';
import { systemErrorReason } from '../system-error.js';
import { ownerText, parseOwnerMap, type OwnerMap } from './format.js';

export type OwnersRead = { ok: true; map: OwnerMap } | { ok: false; reason: string };

export async function readOwnerMap(file: string): Promise<OwnersRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      ok: false,
      reason: missing
        ? `${file} does not exist (kube-ipvs run writes it on this node after a sync)`
        : `cannot read ${file}: ${systemErrorReason(e)}`,
    };
  }
  try {
    return { ok: true, map: parseOwnerMap(text) };
  } catch (e) {
    return {
      ok: false,
      reason: `${file} is not an owner map: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}

/** What --k8s appends to a virtual service line: its owner, or <none> (not kube-ipvs's). */
export function ownerSuffix(map: OwnerMap, service: IpvsServiceId): string {
  const key = ipvsServiceKey(service);
  const owner = key === undefined ? undefined : map.virtualServers.get(key);
  return `  ${owner ? ownerText(owner) : '<none>'}`;
}

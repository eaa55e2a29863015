// Cross-Service conflict resolution: the per-Service results of translate → the one set of
// virtual servers the node should have. Two Services may claim one virtual server key (the
// same externalIP and port, say); the first Service by key ("namespace/name") keeps it and
// the other is told. Pure and order-independent, so render, plan and the reconcile loop
// agree on who wins.
import { sortNotes } from './input.js';
import type { Skipped, VirtualServer } from './types.js';

export interface ServiceResult {
  readonly virtualServers: readonly VirtualServer[];
  readonly skipped: readonly Skipped[];
  readonly warnings?: readonly Skipped[];
}

export interface Desired {
  /** One per key, ordered by owning Service key, then as translate ordered them. */
  readonly virtualServers: VirtualServer[];
  /** Every Service's skipped input, plus the virtual servers lost to another Service. */
  readonly skipped: Skipped[];
  /** Every Service's warnings, de-duplicated (node-wide ones appear once). */
  readonly warnings: Skipped[];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Flattens per-Service results (keyed by "namespace/name"), resolving key conflicts. */
export function collectDesired(perService: Iterable<readonly [string, ServiceResult]>): Desired {
  const byKey = new Map<string, VirtualServer>();
  const skipped: Skipped[] = [];
  const warnings: Skipped[] = [];
  const entries = [...perService].sort(([a], [b]) => cmp(a, b));
  for (const [svcKey, d] of entries) {
    skipped.push(...d.skipped);
    warnings.push(...(d.warnings ?? []));
    for (const vs of d.virtualServers) {
      const owner = byKey.get(vs.key);
      if (owner) {
        skipped.push({
          object: `Service ${svcKey}`,
          field: '',
          reason: `virtual server ${vs.key} is already taken by Service ${owner.owner.namespace}/${owner.owner.name}`,
        });
        continue;
      }
      byKey.set(vs.key, vs);
    }
  }
  return { virtualServers: [...byKey.values()], skipped, warnings: sortNotes(warnings) };
}

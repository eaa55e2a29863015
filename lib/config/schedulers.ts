// The schedulers a config can put in the kernel: its default and each Service rule's. The
// kube-ipvs.io/scheduler annotation can name others at run time: a scheduler the kernel
// refuses then fails that Service's sync alone.
import type { KubeIpvsConfig } from './schema.js';

export function schedulersInUse(c: KubeIpvsConfig): string[] {
  return [...new Set([c.scheduler, ...c.services.map((s) => s.scheduler)])];
}

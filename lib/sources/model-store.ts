// The store wired to the model's translate: what `run`, `plan` and `render` use.
import type { V1Node } from '@kubernetes/client-node';
import { translate, type TranslateConfig } from '../model/translate.js';
import type { NodeContext, Skipped, VirtualServer } from '../model/types.js';
import { ServiceStore } from './store.js';

export type ModelStore = ServiceStore<VirtualServer, Skipped, NodeContext, TranslateConfig>;

/**
 * The node context with the Node object reduced to what translate reads (its addresses), so
 * the store sees a change only when one of those does, not on every status heartbeat.
 */
export function nodeContextFrom(node: V1Node | undefined, current: NodeContext): NodeContext {
  const base: NodeContext = { name: current.name, addresses: current.addresses };
  if (!node) return base;
  const reduced: V1Node = {
    metadata: { name: node.metadata?.name ?? current.name },
    status: {
      addresses: (node.status?.addresses ?? []).map((a) => ({ type: a.type, address: a.address })),
    },
  };
  return { ...base, node: reduced };
}

export function modelStore(node: NodeContext, config: TranslateConfig): ModelStore {
  return new ServiceStore<VirtualServer, Skipped, NodeContext, TranslateConfig>({
    translate: (service, slices, n, c, ctx) =>
      translate(service, slices, n, c, { virtualIPs: ctx.virtualIPs }),
    node,
    config,
    nodeFrom: nodeContextFrom,
  });
}

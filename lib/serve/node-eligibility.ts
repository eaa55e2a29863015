// Whether this node should take load-balanced traffic: not while it is being deleted or the
// cluster autoscaler is draining it (KEP-3836, as kube-proxy's /healthz "nodeEligible").
import type { V1Node } from '@kubernetes/client-node';

/** The taint the cluster autoscaler puts on a node it is about to remove. */
export const TO_BE_DELETED_TAINT = 'ToBeDeletedByClusterAutoscaler';

/** False for a Node with a deletionTimestamp or the autoscaler's taint; true when unknown. */
export function nodeEligible(node: V1Node | undefined): boolean {
  if (!node) return true;
  if (node.metadata?.deletionTimestamp !== undefined && node.metadata.deletionTimestamp !== null)
    return false;
  return !(node.spec?.taints ?? []).some((t) => t.key === TO_BE_DELETED_TAINT);
}

// The Events kube-ipvs reports, one builder each: what a cluster admin must see, on the
// object `kubectl describe` shows it with (the Service; the Node for node-wide trouble).
// Reasons and actions are CamelCase; notes say what happened and what kube-ipvs did.
import type { EventSpec, ObjectRef } from './types.js';

export const ACTION_TRANSLATE = 'Translate';
export const ACTION_SYNC = 'Sync';
export const ACTION_SELECT_BACKEND = 'SelectBackend';

export const REASON_INVALID_SCHEDULER = 'InvalidSchedulerAnnotation';
export const REASON_SERVICE_SKIPPED = 'ServiceSkipped';
export const REASON_ENDPOINTS_SKIPPED = 'EndpointSliceSkipped';
export const REASON_KERNEL_REJECTED = 'KernelRejected';
export const REASON_BACKEND_FALLBACK = 'BackendFallback';

/** A Node as kubelet and kube-proxy refer to it: uid = name, which kubectl describe node also searches. */
export function nodeRef(nodeName: string): ObjectRef {
  return { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeName };
}

/** `kube-ipvs.io/scheduler` (or -flags) was rejected; the configured scheduler is used. */
export function invalidSchedulerEvent(
  service: ObjectRef,
  field: string,
  reason: string,
): EventSpec {
  return {
    regarding: service,
    type: 'Warning',
    reason: REASON_INVALID_SCHEDULER,
    action: ACTION_TRANSLATE,
    note: `${field}: ${reason}`,
  };
}

/**
 * Part of a Service (a port, an address) or of one of its EndpointSlices (`related`) was
 * left out. `what` is the report's "object field: reason" text.
 */
export function skippedEvent(service: ObjectRef, what: string, related?: ObjectRef): EventSpec {
  return {
    regarding: service,
    ...(related ? { related } : {}),
    type: 'Warning',
    reason: related ? REASON_ENDPOINTS_SKIPPED : REASON_SERVICE_SKIPPED,
    action: ACTION_TRANSLATE,
    note: `left out: ${what}`,
  };
}

/** The kernel refused an operation for `regarding` (its Service, or the Node for an address). */
export function kernelRejectedEvent(regarding: ObjectRef, op: string, error: string): EventSpec {
  return {
    regarding,
    type: 'Warning',
    reason: REASON_KERNEL_REJECTED,
    action: ACTION_SYNC,
    note: `the kernel refused ${op}: ${error}; retrying with backoff`,
  };
}

/**
 * IPVS cannot be used on this node and kube-ipvs runs the iptables backend instead. For
 * backend selection to report through the daemon's recorder (proxy.events.record(...))
 * at the moment it falls back; `reason` is ipvsProblem()'s text.
 */
export function backendFallbackEvent(nodeName: string, reason: string): EventSpec {
  return {
    regarding: nodeRef(nodeName),
    type: 'Warning',
    reason: REASON_BACKEND_FALLBACK,
    action: ACTION_SELECT_BACKEND,
    note: `IPVS cannot be used: ${reason}; using the iptables backend`,
  };
}

// The reconciler's notes (SyncNotes) as Events: an invalid scheduler annotation, skipped
// Service or EndpointSlice input, and kernel refusals. The objects' uids come from the
// store, so `kubectl describe service` lists the Events.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { isSchedulerAnnotationWarning } from '../model/scheduler.js';
import type { Skipped } from '../model/types.js';
import type { Op } from '../reconcile/diff.js';
import type { SyncNotes } from '../reconcile/reconciler.js';
import type { EventReporter } from './recorder.js';
import { invalidSchedulerEvent, kernelRejectedEvent, nodeRef, skippedEvent } from './specs.js';
import type { ObjectRef } from './types.js';

export interface ObjectLookup {
  getService(key: string): V1Service | undefined;
  slicesOf(key: string): readonly V1EndpointSlice[];
}

function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

function withUid(ref: ObjectRef, uid: string | undefined): ObjectRef {
  return uid ? { ...ref, uid } : ref;
}

export class SyncEvents implements SyncNotes {
  constructor(
    private readonly events: EventReporter,
    private readonly objects: ObjectLookup,
    private readonly nodeName: string,
  ) {}

  private serviceRef(key: string): ObjectRef {
    const { namespace, name } = splitKey(key);
    const uid = this.objects.getService(key)?.metadata?.uid;
    return withUid({ apiVersion: 'v1', kind: 'Service', namespace, name }, uid);
  }

  /** "EndpointSlice ns/name" in a report → a reference to that slice of `service`. */
  private sliceRef(service: string, object: string): ObjectRef | undefined {
    const m = /^EndpointSlice ([^/ ]+)\/(\S+)$/.exec(object);
    if (!m) return undefined;
    const [, namespace = '', name = ''] = m;
    const uid = this.objects
      .slicesOf(service)
      .find((s) => s.metadata?.name === name && s.metadata?.namespace === namespace)?.metadata?.uid;
    return withUid(
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', namespace, name },
      uid,
    );
  }

  translated(service: string, skipped: readonly Skipped[], warnings: readonly Skipped[]): void {
    const ref = (): ObjectRef => this.serviceRef(service);
    for (const w of warnings)
      if (isSchedulerAnnotationWarning(w))
        this.events.record(invalidSchedulerEvent(ref(), w.field, w.reason));
    for (const s of skipped) {
      const what = `${s.object}${s.field ? ` ${s.field}` : ''}: ${s.reason}`;
      this.events.record(skippedEvent(ref(), what, this.sliceRef(service, s.object)));
    }
  }

  refused(service: string | undefined, op: Op, text: string, error: Error): void {
    const address = op.op === 'bindAddress' || op.op === 'unbindAddress';
    // A Service already gone has nobody to show the Event to; its retry stops anyway.
    if (service === undefined && !address) return;
    const regarding = service === undefined ? nodeRef(this.nodeName) : this.serviceRef(service);
    this.events.record(kernelRejectedEvent(regarding, text, error.message));
  }
}

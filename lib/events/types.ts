// What kube-ipvs reports as a Kubernetes Event (events.k8s.io/v1), before and after the
// correlator turns it into an Event object.

/** The object an Event is about (core/v1 ObjectReference, the fields kube-ipvs sets). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  /** Absent for cluster-scoped objects (a Node). */
  namespace?: string;
  name: string;
  /** kubectl describe finds an object's Events by its uid; without one they do not show. */
  uid?: string;
}

export type EventType = 'Normal' | 'Warning';

/** One occurrence, as the daemon reports it. */
export interface EventSpec {
  regarding: ObjectRef;
  related?: ObjectRef;
  type: EventType;
  /** CamelCase, why (InvalidSchedulerAnnotation). */
  reason: string;
  /** CamelCase, what kube-ipvs was doing (Translate, Sync, SelectBackend). */
  action: string;
  /** For people; cut to the API server's 1 kB limit. */
  note: string;
}

export interface EventSeries {
  /** Occurrences so far, at least 2. */
  count: number;
  lastObservedTime: Date;
}

/** An events.k8s.io/v1 Event as written, times as Dates (the sink serializes them). */
export interface EventBody {
  metadata: { name: string; namespace: string };
  eventTime: Date;
  series?: EventSeries;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  note: string;
  type: EventType;
  regarding: ObjectRef;
  related?: ObjectRef;
}

/** Where Events go: the API server, or the log (--manifests). */
export interface EventSink {
  create(event: EventBody): Promise<void>;
  /** Sets `event.series` on the existing Event `event.metadata.name`. */
  patchSeries(event: EventBody & { series: EventSeries }): Promise<void>;
}

/** A sink failure; `status` is the HTTP status when the API server answered. */
export class EventWriteError extends Error {
  override readonly name = 'EventWriteError';
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

export * from './types.js';
export { TokenBuckets, DEFAULT_LIMITER, type LimiterOptions } from './limiter.js';
export {
  Correlator,
  REPORTING_CONTROLLER,
  cutNote,
  eventNamespace,
  type Observation,
  type Write,
} from './correlator.js';
export { EventRecorder, type EventReporter, type RecorderOptions } from './recorder.js';
export { KubeEventSink, SERIES_PATCH_TYPE, toEventsV1 } from './kube-sink.js';
export { LogEventSink } from './log-sink.js';
export * from './specs.js';
export { SyncEvents, type ObjectLookup } from './sync-events.js';

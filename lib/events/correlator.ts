// What to do with one occurrence of an Event, as client-go's recorder decides: the first
// of its kind is created; a repeat of the same (regarding, reason, note, type) counts up
// the existing Event's series (series.count, series.lastObservedTime) instead of creating
// another; and each regarding object has a token bucket, so a flapping object cannot flood
// the API server. A repeat that the bucket refuses is still counted, so the next write
// carries the true count. Pure: the clock is an argument.
import { DEFAULT_LIMITER, TokenBuckets, type LimiterOptions } from './limiter.js';
import type { EventBody, EventSeries, EventSpec, ObjectRef } from './types.js';

export const REPORTING_CONTROLLER = 'kube-ipvs.io/kube-ipvs';
/** The API server refuses a longer note (pkg/apis/core/validation NoteLengthLimit). */
export const NOTE_LIMIT_BYTES = 1024;
/** Series remembered at most (client-go's LRU size). */
export const MAX_SERIES = 4096;

/** Whether an occurrence may be written now; `count` is its series' count so far. */
export interface Observation {
  key: string;
  write: boolean;
  count: number;
}

/** The write that brings the API server up to date with a series. */
export type Write =
  | { kind: 'create'; event: EventBody }
  | { kind: 'patch'; event: EventBody & { series: EventSeries } };

interface Series {
  name: string;
  namespace: string;
  eventTime: number;
  count: number;
  lastObserved: number;
  /** The API server has this Event (a create succeeded). */
  written: boolean;
  spec: EventSpec;
}

function refKey(r: ObjectRef | undefined): string {
  return r ? [r.apiVersion, r.kind, r.namespace ?? '', r.name, r.uid ?? ''].join('\u0000') : '';
}

/** A note cut to the API server's limit in UTF-8 bytes, never inside a character. */
export function cutNote(note: string): string {
  if (Buffer.byteLength(note) <= NOTE_LIMIT_BYTES) return note;
  let out = '';
  let bytes = 0;
  const tail = '...';
  for (const ch of note) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > NOTE_LIMIT_BYTES - tail.length) break;
    out += ch;
    bytes += n;
  }
  return out + tail;
}

/** Cluster-scoped objects' Events live in "default", as client-go puts them. */
export function eventNamespace(r: ObjectRef): string {
  return r.namespace || 'default';
}

export class Correlator {
  private readonly series = new Map<string, Series>();
  private readonly buckets: TokenBuckets;
  private seq = 0;

  constructor(
    private readonly reportingInstance: string,
    limiter: LimiterOptions = DEFAULT_LIMITER,
  ) {
    this.buckets = new TokenBuckets(limiter);
  }

  /** The identity of a series: what makes two occurrences "the same Event". */
  static key(spec: EventSpec): string {
    return [refKey(spec.regarding), spec.reason, cutNote(spec.note), spec.type].join('\u0001');
  }

  /** Counts one occurrence and takes a token from its object's bucket. */
  observe(spec: EventSpec, now: number): Observation {
    const key = Correlator.key(spec);
    let s = this.series.get(key);
    if (s) {
      s.count++;
      s.lastObserved = now;
      this.series.delete(key);
    } else {
      s = {
        // client-go: "<regarding name>.<unix nanos in hex>"; the sequence keeps two Events
        // of one object in one millisecond apart.
        name: `${spec.regarding.name}.${(BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`,
        namespace: eventNamespace(spec.regarding),
        eventTime: now,
        count: 1,
        lastObserved: now,
        written: false,
        spec,
      };
    }
    this.series.set(key, s);
    while (this.series.size > MAX_SERIES) {
      const oldest = this.series.keys().next().value;
      if (oldest === undefined) break;
      this.series.delete(oldest);
    }
    return { key, write: this.buckets.take(refKey(spec.regarding), now), count: s.count };
  }

  /**
   * The write for `key` as things stand when it is made (a create still in flight when a
   * repeat was observed has finished by then): create until the Event exists, then patch
   * its series. Undefined when the series was forgotten meanwhile.
   */
  next(key: string): Write | undefined {
    const s = this.series.get(key);
    if (!s) return undefined;
    const event = this.body(s);
    if (s.written && event.series)
      return { kind: 'patch', event: { ...event, series: event.series } };
    return { kind: 'create', event };
  }

  /** The create of `key`'s Event succeeded (or it already existed): repeats patch it. */
  written(key: string): void {
    const s = this.series.get(key);
    if (s) s.written = true;
  }

  /** The Event of `key` is gone (expired on the server): the next write creates it again. */
  lost(key: string): void {
    const s = this.series.get(key);
    if (s) s.written = false;
  }

  private body(s: Series): EventBody {
    const { spec } = s;
    return {
      metadata: { name: s.name, namespace: s.namespace },
      eventTime: new Date(s.eventTime),
      ...(s.count >= 2
        ? { series: { count: s.count, lastObservedTime: new Date(s.lastObserved) } }
        : {}),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.reportingInstance,
      action: spec.action,
      reason: spec.reason,
      note: cutNote(spec.note),
      type: spec.type,
      regarding: spec.regarding,
      ...(spec.related ? { related: spec.related } : {}),
    };
  }
}

// The shell around the correlator: record() never blocks or throws; writes go out one at a
// time in order (a repeat's patch after its create), failures are logged at debug and
// never reach the sync. A patch of an Event the API server no longer has (Events expire,
// by default after an hour) creates it again, series included, as client-go does.
import { Correlator } from './correlator.js';
import type { LimiterOptions } from './limiter.js';
import {
  EventWriteError,
  type EventBody,
  type EventSeries,
  type EventSink,
  type EventSpec,
} from './types.js';

export interface RecorderLog {
  debug(obj: object, msg: string): void;
}

export interface RecorderOptions {
  sink: EventSink;
  /** reportingInstance: this node's name. */
  nodeName: string;
  log: RecorderLog;
  now?: () => number;
  limiter?: LimiterOptions;
  /** Writes waiting at most; more are dropped (logged at debug). Default 1000. */
  maxQueued?: number;
}

/** What the daemon reports Events through. */
export interface EventReporter {
  record(spec: EventSpec): void;
}

function statusOf(e: unknown): number | undefined {
  return e instanceof EventWriteError ? e.status : undefined;
}

function text(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class EventRecorder implements EventReporter {
  private readonly correlator: Correlator;
  private readonly now: () => number;
  private tail: Promise<void> = Promise.resolve();
  /** Series with a write waiting: a further occurrence rides on it. */
  private readonly pending = new Set<string>();

  constructor(private readonly opts: RecorderOptions) {
    this.correlator = new Correlator(opts.nodeName, opts.limiter);
    this.now = opts.now ?? Date.now;
  }

  record(spec: EventSpec): void {
    const o = this.correlator.observe(spec, this.now());
    if (!o.write) {
      this.opts.log.debug(
        {
          reason: spec.reason,
          regarding: `${spec.regarding.kind} ${spec.regarding.name}`,
          count: o.count,
        },
        'event rate-limited',
      );
      return;
    }
    if (this.pending.has(o.key)) return;
    if (this.pending.size >= (this.opts.maxQueued ?? 1000)) {
      this.opts.log.debug({ reason: spec.reason }, 'event dropped: too many writes waiting');
      return;
    }
    this.pending.add(o.key);
    this.tail = this.tail.then(() => {
      this.pending.delete(o.key);
      return this.write(o.key);
    });
  }

  /** Waits for the writes recorded so far, at most `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.tail, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    if (timer) clearTimeout(timer);
  }

  private async write(key: string): Promise<void> {
    const w = this.correlator.next(key);
    if (!w) return;
    try {
      if (w.kind === 'create') await this.create(key, w.event);
      else await this.patch(key, w.event);
    } catch (e) {
      this.opts.log.debug(
        { reason: w.event.reason, event: w.event.metadata.name, error: text(e) },
        'writing an event failed',
      );
    }
  }

  private async create(key: string, event: EventBody): Promise<void> {
    try {
      await this.opts.sink.create(event);
    } catch (e) {
      if (statusOf(e) !== 409) throw e;
      // An earlier attempt created it and its answer was lost: bring its series up to date.
      if (event.series) await this.opts.sink.patchSeries({ ...event, series: event.series });
    }
    this.correlator.written(key);
  }

  private async patch(key: string, event: EventBody & { series: EventSeries }): Promise<void> {
    try {
      await this.opts.sink.patchSeries(event);
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
      this.correlator.lost(key);
      const again = this.correlator.next(key);
      if (again) await this.create(key, again.event);
    }
  }
}

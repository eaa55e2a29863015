// Events without an API server (--manifests): each write is one log line, warn for a
// Warning, info for a Normal Event, after the same de-duplication and rate limit.
import type { EventBody, EventSeries, EventSink } from './types.js';

export interface EventLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

function fields(e: EventBody): object {
  const r = e.regarding;
  return {
    type: e.type,
    reason: e.reason,
    action: e.action,
    regarding: `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`,
    ...(e.related
      ? { related: `${e.related.kind} ${e.related.namespace ?? ''}/${e.related.name}` }
      : {}),
    note: e.note,
    count: e.series?.count ?? 1,
  };
}

export class LogEventSink implements EventSink {
  constructor(private readonly log: EventLog) {}

  create(event: EventBody): Promise<void> {
    this.line(event);
    return Promise.resolve();
  }

  patchSeries(event: EventBody & { series: EventSeries }): Promise<void> {
    this.line(event);
    return Promise.resolve();
  }

  private line(e: EventBody): void {
    if (e.type === 'Warning') this.log.warn(fields(e), 'event');
    else this.log.info(fields(e), 'event');
  }
}

// Events to the API server through client-node's EventsV1Api. A repeat is a strategic
// merge patch of `series` only, as client-go's event sink sends it (client-node would
// otherwise send application/json-patch+json, the first type the API lists).
import {
  EventsV1Api,
  V1MicroTime,
  setHeaderOptions,
  type EventsV1Event,
  type KubeConfig,
} from '@kubernetes/client-node';
import { EventWriteError, type EventBody, type EventSeries, type EventSink } from './types.js';

export const SERIES_PATCH_TYPE = 'application/strategic-merge-patch+json';

function micro(d: Date): V1MicroTime {
  return new V1MicroTime(d.getTime());
}

function seriesJson(s: EventSeries): { count: number; lastObservedTime: V1MicroTime } {
  return { count: s.count, lastObservedTime: micro(s.lastObservedTime) };
}

/** The object client-node sends; its MicroTimes print with six fractional digits. */
export function toEventsV1(e: EventBody): EventsV1Event {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: e.metadata.name, namespace: e.metadata.namespace },
    eventTime: micro(e.eventTime),
    ...(e.series ? { series: seriesJson(e.series) } : {}),
    reportingController: e.reportingController,
    reportingInstance: e.reportingInstance,
    action: e.action,
    reason: e.reason,
    note: e.note,
    type: e.type,
    regarding: { ...e.regarding },
    ...(e.related ? { related: { ...e.related } } : {}),
  };
}

function wrap(e: unknown): EventWriteError {
  const code = (e as { code?: unknown }).code;
  const status = typeof code === 'number' ? code : undefined;
  const body = (e as { body?: unknown }).body;
  let detail = e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e);
  // client-node's ApiException carries the Status body, parsed or as text.
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  const m = (parsed as { message?: unknown } | undefined)?.message;
  if (typeof m === 'string') detail = m;
  return new EventWriteError(status === undefined ? detail : `HTTP ${status}: ${detail}`, status);
}

export class KubeEventSink implements EventSink {
  private readonly api: EventsV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(EventsV1Api);
  }

  async create(event: EventBody): Promise<void> {
    try {
      await this.api.createNamespacedEvent({
        namespace: event.metadata.namespace,
        body: toEventsV1(event),
      });
    } catch (e) {
      throw wrap(e);
    }
  }

  async patchSeries(event: EventBody & { series: EventSeries }): Promise<void> {
    try {
      await this.api.patchNamespacedEvent(
        {
          name: event.metadata.name,
          namespace: event.metadata.namespace,
          body: { series: seriesJson(event.series) },
        },
        setHeaderOptions('Content-Type', SERIES_PATCH_TYPE),
      );
    } catch (e) {
      throw wrap(e);
    }
  }
}

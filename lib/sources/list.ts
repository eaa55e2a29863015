// A list of one collection in pages, as client-go's reflector reads it (limit=500, then
// continue until done), over client-node's own HTTP client (node-fetch) with the options
// its Watch uses. The bodies are parsed and kept as JSON, not walked by client-node's
// ObjectSerializer into typed copies: a 10 000-Service list is held once, a page at a
// time, and its objects have the same shape as those the watch delivers (raw JSON too).
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import fetch, { Headers, type RequestInit } from 'node-fetch';

/** client-go's reflector page size. */
export const DEFAULT_PAGE_SIZE = 500;

/** How often a list whose continue token expired starts over before it gives up. */
export const MAX_LIST_RESTARTS = 3;

export interface ListOptions<T> {
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per request (limit); default 500. A server without chunking sends everything. */
  pageSize?: number;
  /** Applied to each item as its page arrives, so a page's full objects can be dropped. */
  transform?: (obj: T) => T;
  /** Aborts the request in flight and the pages still to come. */
  signal?: AbortSignal;
}

/** A list request the API server refused; statusCode is the HTTP status (410: expired). */
export class ListError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    /** The Status reason (Expired, Forbidden, …) when the body was a Status. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'ListError';
  }
}

interface ListBody<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[] | null;
}

interface StatusLike {
  message?: unknown;
  reason?: unknown;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${what}: the answer is not JSON: ${(e as Error).message}`, { cause: e });
  }
}

function isListBody<T>(v: unknown): v is ListBody<T> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const items = (v as { items?: unknown }).items;
  return items === undefined || items === null || Array.isArray(items);
}

async function getPage<T>(url: URL, init: RequestInit, what: string): Promise<ListBody<T>> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) {
    let status: StatusLike = {};
    try {
      const v = JSON.parse(text) as unknown;
      if (v !== null && typeof v === 'object') status = v as StatusLike;
    } catch {
      // Not a Status (a proxy's HTML page): the status line says enough.
    }
    const message = typeof status.message === 'string' ? `: ${status.message}` : '';
    throw new ListError(
      `${what}: ${res.status} ${res.statusText}${message}`,
      res.status,
      typeof status.reason === 'string' ? status.reason : undefined,
    );
  }
  const body = parseJson(text, what);
  if (!isListBody<T>(body)) throw new Error(`${what}: the answer is not a list`);
  return body;
}

/**
 * Lists the collection at path (e.g. /api/v1/services) in pages of pageSize, following
 * continue tokens. All pages come from the snapshot of the first (the server guarantees
 * it), so the result is one consistent list at one resourceVersion. A continue token that
 * expired (410, the snapshot was compacted away) starts the list over from the first page,
 * at most MAX_LIST_RESTARTS times; client-go's pager falls back to one unpaged list instead.
 */
export async function listAll<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  path: string,
  opts: ListOptions<T> = {},
): Promise<KubernetesListObject<T>> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('No currently active cluster');
  const what = `list ${path}`;
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const t = opts.transform;
  for (let restarts = 0; ; restarts++) {
    // Per list, as the Watch does per watch: credentials (exec, token files) are current.
    const init = await kubeConfig.applyToFetchOptions({});
    init.method = 'GET';
    // JSON, as the generated clients ask (a server may otherwise choose another encoding).
    const headers = new Headers(init.headers);
    headers.set('accept', 'application/json, */*;q=0.8');
    init.headers = headers;
    if (opts.signal) init.signal = opts.signal;
    const items: T[] = [];
    let resourceVersion: string | undefined;
    let cont: string | undefined;
    try {
      do {
        const url = new URL(cluster.server + path);
        if (opts.labelSelector !== undefined)
          url.searchParams.set('labelSelector', opts.labelSelector);
        if (opts.fieldSelector !== undefined)
          url.searchParams.set('fieldSelector', opts.fieldSelector);
        if (pageSize > 0) url.searchParams.set('limit', String(pageSize));
        if (cont !== undefined) url.searchParams.set('continue', cont);
        const page = await getPage<T>(url, init, what);
        for (const o of page.items ?? []) items.push(t ? t(o) : o);
        // Every page reports the snapshot's version; the first one is the list's.
        resourceVersion ??= page.metadata?.resourceVersion;
        const next = page.metadata?.continue;
        cont = next !== undefined && next !== '' ? next : undefined;
      } while (cont !== undefined);
    } catch (e) {
      const expired = e instanceof ListError && e.statusCode === 410 && cont !== undefined;
      if (!expired) throw e;
      if (restarts < MAX_LIST_RESTARTS) continue;
      throw new ListError(`${e.message} (started over ${restarts} times)`, e.statusCode, e.reason);
    }
    return {
      metadata: resourceVersion !== undefined ? { resourceVersion } : {},
      items,
    };
  }
}

// A client-node ListWatch (the informer of @kubernetes/client-node 1.4.0) with the gaps of
// that version filled. What 1.4.0's cache.js does and does not do:
//  - 410 Gone, as an HTTP status on watch start or as an ERROR event on an open watch:
//    it clears its resourceVersion and relists when the watch ends. Kept.
//  - A watch that ends cleanly: it re-watches from the last resourceVersion. Kept.
//  - Any other error (list failure, refused connection, 5xx, aborted stream): it fires its
//    'error' callbacks and stops for good. Here: restart with exponential backoff and jitter.
//  - It never asks for bookmarks and sets no timeoutSeconds, and its Watch overrides its own
//    30 s fetch timeout, so a half-open connection hangs forever. Here: the Watch is
//    subclassed to send allowWatchBookmarks=true and timeoutSeconds, and a client-side
//    deadline aborts a watch that outlives its timeout, which then restarts as above.
//  - After stop() during an in-flight list it still starts a watch. Here: the Watch refuses
//    to start once stopped.
//  - An ERROR event other than 410 ends the stream and it re-watches at once, so a server
//    failing every watch that way makes a busy loop. Here: such quick ends back off.
//  - It has no notion of "synced". Here: synced once the first list has been applied.
//  - It has no notion of being connected. Here: downSince tells since when no watch stream
//    has been open (the health endpoint needs to know the API server stopped answering).
//  - Its list is a function given to it. Here: the collection path in pages (list.ts), raw
//    JSON as the watch delivers it, transformed page by page.

import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { listAll } from './list.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of the delay added at random (0..1). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 500,
  maxMs: 30000,
  factor: 2,
  jitter: 0.2,
};

export interface InformerStats {
  lists: number;
  watches: number;
  errors: number;
  restarts: number;
  lastError?: string;
  resourceVersion: string;
}

export interface InformerHandlers<T> {
  upsert(obj: T): void;
  remove(obj: T): void;
  error?(err: unknown, retryInMs: number): void;
}

export interface InformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** Collection path, e.g. /api/v1/services: listed (in pages) and watched. */
  path: string;
  /** Items per list request (limit); default 500, as client-go's reflector. */
  listPageSize?: number;
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side watch lifetime (timeoutSeconds); default 300. */
  watchTimeoutSeconds?: number;
  /** Slack past timeoutSeconds before the client gives up on a silent watch; default 30 s. */
  watchDeadlineSlackMs?: number;
  backoff?: Partial<BackoffOptions>;
  /**
   * Applied to every listed and watched object before the cache and the handlers see it
   * (keep metadata.resourceVersion: ListWatch resumes from it).
   */
  transform?: (obj: T) => T;
}

type WatchCallback = Parameters<Watch['watch']>[2];
type DoneCallback = Parameters<Watch['watch']>[3];

/** A Watch that asks for bookmarks and a server-side timeout, and enforces a deadline. */
class BoundedWatch extends Watch {
  closed = false;
  onStart: () => void = () => undefined;
  onEvent: () => void = () => undefined;
  /** A watch answered 200 and streams. */
  onUp: () => void = () => undefined;
  /** The streaming watch ended, or a watch request failed. */
  onDown: () => void = () => undefined;
  /** Watches in a row that ended at once with nothing but ERROR events. */
  private quickEnds = 0;

  constructor(
    config: KubeConfig,
    private readonly timeoutSeconds: number,
    private readonly deadlineSlackMs: number,
    private readonly backoff: BackoffOptions,
    private readonly transform: ((obj: never) => unknown) | undefined,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: WatchCallback,
    done: DoneCallback,
  ): Promise<AbortController> {
    // ListWatch re-watches at once when a stream ends cleanly; a server that answers every
    // watch with an ERROR event (not 410) and closes would make that a busy loop.
    if (this.quickEnds > 0) {
      const ms = Math.min(
        this.backoff.maxMs,
        this.backoff.initialMs * Math.pow(this.backoff.factor, this.quickEnds - 1),
      );
      await new Promise((r) => setTimeout(r, ms));
    }
    if (this.closed) {
      const c = new AbortController();
      c.abort();
      return c;
    }
    this.onStart();
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    let useful = false;
    let ended = false;
    const finish: DoneCallback = (err) => {
      ended = true;
      this.onDown();
      if (timer) clearTimeout(timer);
      this.quickEnds =
        !useful && err === null && Date.now() - started < 1000 ? this.quickEnds + 1 : 0;
      done(err);
    };
    const controller = await super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: this.timeoutSeconds },
      (phase, obj, watchObj) => {
        if (phase !== 'ERROR') {
          useful = true;
          this.onEvent();
        }
        const t = this.transform;
        const objectEvent = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED';
        callback(phase, t && objectEvent ? t(obj as never) : obj, watchObj);
      },
      finish,
    );
    // Stopped while the request was in flight: ListWatch has nothing to abort yet, and an
    // open watch would keep a short-lived command (plan, --once) from exiting.
    if (this.closed) controller.abort();
    // super.watch returns once the response has begun; a refused or failed request has
    // already called finish by then.
    if (!ended && !controller.signal.aborted) this.onUp();
    if (!controller.signal.aborted) {
      timer = setTimeout(
        () => controller.abort(),
        this.timeoutSeconds * 1000 + this.deadlineSlackMs,
      );
      timer.unref();
    }
    return controller;
  }
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly counters: InformerStats = {
    lists: 0,
    watches: 0,
    errors: 0,
    restarts: 0,
    resourceVersion: '',
  };
  private readonly informer: ListWatch<T>;
  private readonly watch: BoundedWatch;
  private readonly backoff: BackoffOptions;
  private stopped = true;
  /** Aborted by stop(): a list in flight (its pages) ends with it. */
  private lists = new AbortController();
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private syncedFlag = false;
  private down: number | undefined = Date.now();
  private readonly syncWaiters: Array<() => void> = [];

  constructor(
    private readonly opts: InformerOptions<T>,
    private readonly handlers: InformerHandlers<T>,
  ) {
    this.backoff = { ...DEFAULT_BACKOFF, ...(opts.backoff ?? {}) };
    this.watch = new BoundedWatch(
      opts.kubeConfig,
      opts.watchTimeoutSeconds ?? 300,
      opts.watchDeadlineSlackMs ?? 30000,
      this.backoff,
      opts.transform,
    );
    this.watch.onStart = () => {
      this.counters.watches++;
    };
    this.watch.onEvent = () => {
      this.attempt = 0;
    };
    this.watch.onUp = () => {
      this.down = undefined;
    };
    this.watch.onDown = () => {
      this.down ??= Date.now();
    };
    const listFn = async (): Promise<KubernetesListObject<T>> => {
      const list = await listAll<T>(opts.kubeConfig, opts.path, {
        ...(opts.labelSelector !== undefined ? { labelSelector: opts.labelSelector } : {}),
        ...(opts.fieldSelector !== undefined ? { fieldSelector: opts.fieldSelector } : {}),
        ...(opts.listPageSize !== undefined ? { pageSize: opts.listPageSize } : {}),
        ...(opts.transform !== undefined ? { transform: opts.transform } : {}),
        signal: this.lists.signal,
      });
      this.counters.lists++;
      // ListWatch applies the items in the continuation of this promise; a macrotask
      // later they are all in.
      setImmediate(() => this.listApplied());
      return list;
    };
    this.informer = new ListWatch<T>(
      opts.path,
      this.watch,
      listFn,
      false,
      opts.labelSelector,
      opts.fieldSelector,
    );
    this.informer.on('add', (o) => this.stopped || this.handlers.upsert(o));
    this.informer.on('update', (o) => this.stopped || this.handlers.upsert(o));
    this.informer.on('delete', (o) => this.stopped || this.handlers.remove(o));
    this.informer.on('error', (err) => this.onError(err));
  }

  /** Counters, and the resourceVersion the informer would resume from (bookmarks move it). */
  get stats(): InformerStats {
    return { ...this.counters, resourceVersion: this.informer.latestResourceVersion() };
  }

  get synced(): boolean {
    return this.syncedFlag;
  }

  /** Since when (ms since the epoch) no watch stream has been open; undefined while one is. */
  get downSince(): number | undefined {
    return this.down;
  }

  /** Resolves once the first list has been applied. */
  waitForSync(): Promise<void> {
    if (this.syncedFlag) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    if (!this.stopped) return;
    this.down ??= Date.now();
    this.stopped = false;
    if (this.lists.signal.aborted) this.lists = new AbortController();
    this.watch.closed = false;
    void this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.lists.abort();
    this.watch.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.informer.stop();
  }

  /** Objects as the informer's cache holds them. */
  list(): readonly T[] {
    return this.informer.list();
  }

  private listApplied(): void {
    this.attempt = 0;
    if (this.syncedFlag) return;
    this.syncedFlag = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    this.counters.errors++;
    this.counters.lastError = err instanceof Error ? err.message : String(err);
    const base = Math.min(
      this.backoff.maxMs,
      this.backoff.initialMs * Math.pow(this.backoff.factor, this.attempt),
    );
    const delay = Math.round(base * (1 + this.backoff.jitter * Math.random()));
    this.attempt++;
    this.handlers.error?.(err, delay);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      this.counters.restarts++;
      // start() resumes from the last resourceVersion; a 410 there relists.
      void this.informer.start();
    }, delay);
  }
}

// Services, EndpointSlices and this Node from the API server, through client-node informers,
// into an ObjectSink. Services and EndpointSlices are filtered as kube-proxy filters them:
// not those another proxy claims (service.kubernetes.io/service-proxy-name) and not headless
// ones (service.kubernetes.io/headless). The Node is watched by name (fieldSelector).
// Objects arrive as the API server's JSON (lists and watches alike): timestamps are
// strings, not the Date objects client-node's generated API clients would make of them.
import {
  KubeConfig,
  type V1EndpointSlice,
  type V1Node,
  type V1Service,
} from '@kubernetes/client-node';
import { ResilientInformer, type BackoffOptions, type InformerStats } from './informer.js';
import type { ObjectSink } from './sink.js';
import { slimService, slimSlice } from './slim.js';

export const PROXY_LABEL_SELECTOR =
  '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless';

export interface KubernetesSourceOptions {
  kubeConfig: KubeConfig;
  nodeName: string;
  sink: ObjectSink;
  labelSelector?: string;
  /** Items per list request; default 500, as client-go's reflector. */
  listPageSize?: number;
  watchTimeoutSeconds?: number;
  watchDeadlineSlackMs?: number;
  backoff?: Partial<BackoffOptions>;
  onError?: (what: 'services' | 'endpointslices' | 'node', err: unknown, retryInMs: number) => void;
}

function nsName(o: { metadata?: { namespace?: string; name?: string } }): [string, string] {
  return [o.metadata?.namespace ?? '', o.metadata?.name ?? ''];
}

/**
 * Loads a kubeconfig: the file given, else in-cluster, else ~/.kube/config (KUBECONFIG).
 */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (file) kc.loadFromFile(file);
    else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (e) {
    // client-node reads a file that is not a YAML mapping (empty, a list) as undefined and
    // fails on a property of it: say what the file is not.
    if (e instanceof TypeError)
      throw new Error('not a kubeconfig (no clusters, contexts, users)', { cause: e });
    throw e;
  }
  // Without one, the API clients would fail later with client-node's "No active cluster!".
  if (!kc.getCurrentCluster())
    throw new Error(
      `no cluster to connect to: the current context (${kc.getCurrentContext() || 'none'}) names none`,
    );
  return kc;
}

export class KubernetesSource {
  private readonly services: ResilientInformer<V1Service>;
  private readonly slices: ResilientInformer<V1EndpointSlice>;
  private readonly node: ResilientInformer<V1Node>;

  constructor(opts: KubernetesSourceOptions) {
    const labelSelector = opts.labelSelector ?? PROXY_LABEL_SELECTOR;
    const common = {
      kubeConfig: opts.kubeConfig,
      ...(opts.listPageSize !== undefined ? { listPageSize: opts.listPageSize } : {}),
      ...(opts.watchTimeoutSeconds !== undefined
        ? { watchTimeoutSeconds: opts.watchTimeoutSeconds }
        : {}),
      ...(opts.watchDeadlineSlackMs !== undefined
        ? { watchDeadlineSlackMs: opts.watchDeadlineSlackMs }
        : {}),
      ...(opts.backoff !== undefined ? { backoff: opts.backoff } : {}),
    };
    const sink = opts.sink;
    this.services = new ResilientInformer<V1Service>(
      {
        ...common,
        path: '/api/v1/services',
        labelSelector,
        transform: slimService,
      },
      {
        upsert: (s) => sink.upsertService(s),
        remove: (s) => sink.removeService(...nsName(s)),
        error: (e, ms) => opts.onError?.('services', e, ms),
      },
    );
    this.slices = new ResilientInformer<V1EndpointSlice>(
      {
        ...common,
        path: '/apis/discovery.k8s.io/v1/endpointslices',
        labelSelector,
        transform: slimSlice,
      },
      {
        upsert: (s) => sink.upsertSlice(s),
        remove: (s) => sink.removeSlice(...nsName(s)),
        error: (e, ms) => opts.onError?.('endpointslices', e, ms),
      },
    );
    this.node = new ResilientInformer<V1Node>(
      {
        ...common,
        path: '/api/v1/nodes',
        fieldSelector: `metadata.name=${opts.nodeName}`,
      },
      {
        upsert: (n) => sink.setNode?.(n),
        remove: () => sink.setNode?.(undefined),
        error: (e, ms) => opts.onError?.('node', e, ms),
      },
    );
  }

  start(): void {
    this.services.start();
    this.slices.start();
    this.node.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.services.stop(), this.slices.stop(), this.node.stop()]);
  }

  get synced(): boolean {
    return this.services.synced && this.slices.synced && this.node.synced;
  }

  /**
   * Since when (ms since the epoch) at least one of the three watches has had no open
   * stream: the API server stopped answering, or a watch is between two requests.
   * Undefined while all three stream.
   */
  downSince(): number | undefined {
    const down = [this.services, this.slices, this.node]
      .map((i) => i.downSince)
      .filter((t): t is number => t !== undefined);
    return down.length > 0 ? Math.min(...down) : undefined;
  }

  /** Resolves when all three informers have applied their first list. */
  async waitForSync(timeoutMs?: number): Promise<void> {
    const all = Promise.all([
      this.services.waitForSync(),
      this.slices.waitForSync(),
      this.node.waitForSync(),
    ]).then(() => undefined);
    if (timeoutMs === undefined) return all;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`informers not synced after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([all, timeout]);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  stats(): { services: InformerStats; endpointslices: InformerStats; node: InformerStats } {
    return {
      services: this.services.stats,
      endpointslices: this.slices.stats,
      node: this.node.stats,
    };
  }
}

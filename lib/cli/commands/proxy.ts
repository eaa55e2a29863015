// What `run`, `plan` and `cleanup` share: their flags, the config, the source of
// Services (API server or manifests), the store, the backend and the reconciler.
import { hostname } from 'node:os';
import type { KubeConfig, V1Node } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeIpvsConfig } from '../../config/schema.js';
import { schedulersInUse } from '../../config/schedulers.js';
import type { Backend } from '../../backends/backend.js';
import { selectBackend, type BackendChoice } from '../../backends/select.js';
import { MasqueradeSync } from '../../backends/ipvs/masquerade-sync.js';
import { Reconciler } from '../../reconcile/reconciler.js';
import { EventRecorder } from '../../events/recorder.js';
import { LogEventSink } from '../../events/log-sink.js';
import { SyncEvents } from '../../events/sync-events.js';
import { backendFallbackEvent } from '../../events/specs.js';
import { OwnerMapWriter, ownersPath } from '../../owners/index.js';
import { ManifestSource } from '../../sources/manifests.js';
import { formatProblem } from '../../sources/manifest-parse.js';
import { modelStore, type ModelStore } from '../../sources/model-store.js';
import { LOG_LEVELS, makeLogger, type LogFormat, type LogLevel } from '../log.js';
import { systemErrorReason } from '../../system-error.js';
import { UsageError, parseFlags, type CommandIo } from './io.js';
import { checkDirectory, readConfigFlag } from './inputs.js';

export const PROXY_FLAGS = {
  config: { type: 'string' },
  kubeconfig: { type: 'string' },
  manifests: { type: 'string' },
  'node-name': { type: 'string' },
  backend: { type: 'string' },
  'log-format': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

export const PROXY_USAGE =
  '  --config FILE          kube-ipvs configuration (default: built-in defaults)\n' +
  '  --kubeconfig FILE      API server credentials (default: in-cluster, else ~/.kube/config)\n' +
  '  --manifests DIR        standalone: Services, EndpointSlices, Endpoints from YAML files, watched\n' +
  '  --node-name NAME       this node (default: $NODE_NAME, else the hostname)\n' +
  '  --backend MODE         auto, ipvs or iptables (overrides the config)\n' +
  '  --log-format FORMAT    json (default) or text\n' +
  '  --log-level LEVEL      info (default; warn for plan), debug, warn, error';

export interface ProxyFlags {
  config?: string;
  kubeconfig?: string;
  manifests?: string;
  'node-name'?: string;
  backend?: string;
  'log-format'?: string;
  'log-level'?: string;
}

export interface Proxy {
  /** The config in force (replaced on reload). */
  config: KubeIpvsConfig;
  configHash: string | undefined;
  log: Logger;
  store: ModelStore;
  backend: Backend;
  reconciler: Reconciler;
  /**
   * Kubernetes Events (run only; to the log with --manifests), backend selection's
   * fallback among them.
   */
  events: EventRecorder | undefined;
  /** Feeds the store once (manifests) or until the informers have listed (API server). */
  ready(timeoutMs?: number): Promise<void>;
  /** Starts watching for changes (run). */
  watch(): void;
  /**
   * Since when the API server source has not been streaming (ms since the epoch);
   * undefined while it streams, and always for manifests.
   */
  sourceDownSince(): number | undefined;
  /** Called with this node's Node object whenever the source reports it (API server only). */
  onNode(listener: (node: V1Node | undefined) => void): void;
  close(): Promise<void>;
}

/** How long closing waits for Events still being written. */
const EVENT_FLUSH_MS = 2000;

const BACKENDS: readonly BackendChoice[] = ['auto', 'ipvs', 'iptables'];

export function parseProxyFlags<E extends Record<string, { type: 'string' | 'boolean' }>>(
  args: string[],
  extra: E,
) {
  const { values } = parseFlags(args, { ...PROXY_FLAGS, ...extra });
  const v = values as ProxyFlags;
  if (v.manifests !== undefined && v.kubeconfig !== undefined)
    throw new UsageError('--manifests and --kubeconfig exclude each other');
  if (v.backend !== undefined && !BACKENDS.includes(v.backend as BackendChoice))
    throw new UsageError(`--backend: expected one of ${BACKENDS.join(', ')}; got "${v.backend}"`);
  const format = v['log-format'] ?? 'json';
  if (format !== 'json' && format !== 'text')
    throw new UsageError(`--log-format: expected json or text; got "${format}"`);
  const level = v['log-level'] ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}; got "${level}"`);
  return values;
}

// The API server client (@kubernetes/client-node) is most of the start-up time: 1.3 of 2 s
// on a host, 7 of 9 s inside User-Mode Linux. A proxy on a manifests directory never loads it.
const kubernetesSource = (): Promise<typeof import('../../sources/kubernetes.js')> =>
  import('../../sources/kubernetes.js');

/** Everything a proxy command needs; undefined after printing why it cannot start. */
export async function openProxy(
  command: 'run' | 'plan',
  flags: ProxyFlags,
  io: CommandIo,
): Promise<Proxy | undefined> {
  const loaded = await readConfigFlag(flags.config, io);
  if (!loaded) return undefined;
  const cfg = loaded.config;
  const log = makeLogger(
    (flags['log-format'] ?? 'json') as LogFormat,
    // plan's output is the operations; its log says only what went wrong.
    (flags['log-level'] ?? (command === 'plan' ? 'warn' : 'info')) as LogLevel,
    (t) => io.stderr(t),
  );
  const nodeName = flags['node-name'] || io.env.NODE_NAME || hostname();
  // Inputs are checked before the kernel is touched, each with one line naming it.
  const fail = (what: string, e: unknown): undefined => {
    const first = systemErrorReason(e).split('\n')[0] ?? '';
    io.stderr(`kube-ipvs ${command}: ${what}: ${first}\n`);
    return undefined;
  };
  let kubeConfig: KubeConfig | undefined;
  if (flags.manifests !== undefined) {
    if (!(await checkDirectory(command, flags.manifests, io))) return undefined;
  } else {
    try {
      kubeConfig = (await kubernetesSource()).loadKubeConfig(flags.kubeconfig);
    } catch (e) {
      return fail(`loading the kubeconfig${flags.kubeconfig ? ` ${flags.kubeconfig}` : ''}`, e);
    }
  }
  // plan only reads: it reports nothing to the API server.
  const events =
    command === 'run'
      ? new EventRecorder({
          // Like the source, the API sink is loaded only when there is an API server.
          sink: kubeConfig
            ? new (await import('../../events/kube-sink.js')).KubeEventSink(kubeConfig)
            : new LogEventSink(log),
          nodeName,
          log,
        })
      : undefined;
  const store = modelStore({ name: nodeName, addresses: [] }, cfg);
  let ready: (timeoutMs?: number) => Promise<void>;
  let watch: () => void;
  let sourceDownSince: () => number | undefined = () => undefined;
  const nodeListeners: ((node: V1Node | undefined) => void)[] = [];
  let stop: () => Promise<void>;
  if (kubeConfig === undefined && flags.manifests !== undefined) {
    const source = new ManifestSource({
      dir: flags.manifests,
      sink: store,
      onScan: (scan) => {
        for (const p of scan.problems) log.warn({ problem: formatProblem(p) }, 'manifest problem');
      },
    });
    let watching = false;
    ready = async () => {
      const scan = await source.load();
      for (const p of scan.problems) log.warn({ problem: formatProblem(p) }, 'manifest problem');
    };
    // A file changed between the first read and the watch would be missed: watch first,
    // then read once more.
    watch = () => {
      if (watching) return;
      watching = true;
      source.start();
      void source.rescan();
    };
    stop = () => {
      source.stop();
      return Promise.resolve();
    };
  } else {
    const { KubernetesSource, loadKubeConfig } = await kubernetesSource();
    const kc = kubeConfig ?? loadKubeConfig(flags.kubeconfig);
    const source = new KubernetesSource({
      kubeConfig: kc,
      nodeName,
      sink: {
        upsertService: (s) => store.upsertService(s),
        removeService: (ns, n) => store.removeService(ns, n),
        upsertSlice: (s) => store.upsertSlice(s),
        removeSlice: (ns, n) => store.removeSlice(ns, n),
        setNode: (n) => {
          store.setNode(n);
          for (const l of nodeListeners) l(n);
        },
      },
      onError: (what, err, retryInMs) => {
        lastError = `${what}: ${err instanceof Error ? err.message : String(err)}`;
        log.warn(
          { resource: what, error: err instanceof Error ? err.message : String(err), retryInMs },
          `watching ${what} failed`,
        );
      },
    });
    let lastError: string | undefined;
    let started = false;
    const server = kc.getCurrentCluster()?.server ?? '(no server in the kubeconfig)';
    // The first list starts now: on a node with more than one CPU it overlaps the backend's
    // probes and the kernel settings (ready() waits for it).
    source.start();
    started = true;
    ready = async (timeoutMs?: number) => {
      try {
        await source.waitForSync(timeoutMs);
      } catch {
        throw new Error(
          `the API server ${server} did not list Services, EndpointSlices and the Node ` +
            `within ${Math.round((timeoutMs ?? 0) / 1000)} s` +
            (lastError ? `; last error: ${lastError}` : ''),
        );
      }
    };
    watch = () => {
      if (!started) source.start();
      started = true;
    };
    stop = () => source.stop();
    sourceDownSince = () => source.downSince();
  }
  const choice = (flags.backend ?? cfg.backend) as BackendChoice;
  let backend: Backend;
  try {
    backend = await selectBackend(
      choice,
      schedulersInUse(cfg),
      {
        interface: cfg.interface,
        excludeCIDRs: cfg.excludeCIDRs,
        warn: (m) => log.warn(m),
        info: (m) => log.info(m),
        fellBack: (reason) => events?.record(backendFallbackEvent(nodeName, reason)),
      },
      command === 'run',
    );
  } catch (e) {
    io.stderr(`kube-ipvs ${command}: ${e instanceof Error ? e.message : String(e)}\n`);
    await stop();
    return undefined;
  }
  // SNAT rules and their ipsets, the same for both backends; plan never writes them (it
  // runs no sync).
  const masquerade =
    command === 'run'
      ? new MasqueradeSync({
          options: () => ({
            masqueradeAll: proxy.config.masqueradeAll,
            clusterCIDR: proxy.config.clusterCIDR,
          }),
          log,
        })
      : undefined;
  const reconciler = new Reconciler({
    store,
    backend,
    log,
    notes: events && new SyncEvents(events, store, nodeName),
    // lvsadm --k8s reads who owns each virtual server from here.
    synced:
      command === 'run'
        ? new OwnerMapWriter({ file: ownersPath(io.env), node: nodeName, log }).synced
        : undefined,
    // The config in force, which a reload replaces on the proxy defined below.
    drainTimeoutMs: () => proxy.config.gracefulTermination.timeout,
    follower: masquerade,
  });
  log.info({ node: nodeName, backend: backend.mode, interface: cfg.interface }, 'starting');
  const proxy: Proxy = {
    config: cfg,
    configHash: loaded.hash,
    log,
    store,
    backend,
    reconciler,
    events,
    ready,
    watch,
    sourceDownSince: () => sourceDownSince(),
    onNode: (l) => nodeListeners.push(l),
    close: async () => {
      // Events of the last sync (run --once) go out before the process ends.
      await events?.flush(EVENT_FLUSH_MS);
      await stop();
      await masquerade?.settled();
      masquerade?.close();
      backend.close();
    },
  };
  return proxy;
}

// What `run`, `plan` and `cleanup` share: their flags, the config, the source of
// Services (API server or manifests), the store, the backend and the reconciler.
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeIpvsConfig } from '../../config/schema.js';
import type { Backend } from '../../backends/backend.js';
import { selectBackend, type BackendChoice } from '../../backends/select.js';
import { MasqueradeSync } from '../../backends/ipvs/masquerade-sync.js';
import { Reconciler } from '../../reconcile/reconciler.js';
import { KubernetesSource, loadKubeConfig } from '../../sources/kubernetes.js';
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
  /** Feeds the store once (manifests) or until the informers have listed (API server). */
  ready(timeoutMs?: number): Promise<void>;
  /** Starts watching for changes (run). */
  watch(): void;
  close(): Promise<void>;
}

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

export function schedulersInUse(c: KubeIpvsConfig): string[] {
  return [...new Set([c.scheduler, ...c.services.map((s) => s.scheduler)])];
}

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
      kubeConfig = loadKubeConfig(flags.kubeconfig);
    } catch (e) {
      return fail(`loading the kubeconfig${flags.kubeconfig ? ` ${flags.kubeconfig}` : ''}`, e);
    }
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
      },
      command === 'run',
    );
  } catch (e) {
    io.stderr(`kube-ipvs ${command}: ${e instanceof Error ? e.message : String(e)}\n`);
    return undefined;
  }
  const store = modelStore({ name: nodeName, addresses: [] }, cfg);
  const reconciler = new Reconciler({
    store,
    backend,
    log,
    // The config in force, which a reload replaces on the proxy defined below.
    drainTimeoutMs: () => proxy.config.gracefulTermination.timeout,
    // SNAT rules and their ipsets, the same for both backends; plan never writes them
    // (it runs no sync).
    follower:
      command === 'run'
        ? new MasqueradeSync({
            options: () => ({
              masqueradeAll: proxy.config.masqueradeAll,
              clusterCIDR: proxy.config.clusterCIDR,
            }),
            log,
          })
        : undefined,
  });
  let ready: (timeoutMs?: number) => Promise<void>;
  let watch: () => void;
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
    const kc = kubeConfig ?? loadKubeConfig(flags.kubeconfig);
    const source = new KubernetesSource({
      kubeConfig: kc,
      nodeName,
      sink: store,
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
    ready = async (timeoutMs?: number) => {
      source.start();
      started = true;
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
  }
  log.info({ node: nodeName, backend: backend.mode, interface: cfg.interface }, 'starting');
  const proxy: Proxy = {
    config: cfg,
    configHash: loaded.hash,
    log,
    store,
    backend,
    reconciler,
    ready,
    watch,
    close: async () => {
      await stop();
      backend.close();
    },
  };
  return proxy;
}

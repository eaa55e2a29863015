// `kube-ipvs run`: the node's proxy. Syncs once, then follows every change until SIGTERM
// or SIGINT, which stop it and leave the kernel as it is (a restart adopts that state,
// so no connection is dropped). `--once` syncs once and checks the result, and serves
// nothing; otherwise the status servers and health-check node ports open before the first
// sync (/healthz is 503 until one has succeeded).
import { watchConfig } from '../../config/watch.js';
import { IpvsBackend } from '../../backends/ipvs/backend.js';
import { applyIpvsSysctls } from '../../backends/ipvs/sysctls.js';
import { nodePortAddresses } from '../../model/entries.js';
import { Report } from '../../model/input.js';
import { ensureSysctl } from '../../../bindings/sysctl.js';
import { SyncLoop } from '../../reconcile/loop.js';
import { Serving } from '../../serve/serving.js';
import { formatOp } from '../format/ops.js';
import { setHeapPolicy, type HeapPolicy } from '../memory.js';
import type { Command, CommandIo } from './io.js';
import { openProxy, parseProxyFlags, PROXY_USAGE, type Proxy } from './proxy.js';

/** How long --once, plan and cleanup wait for the API server's first lists. */
export const SYNC_WAIT_MS = 60_000;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Sysctls and IPVS timeouts from the config. */
async function prepareKernel(proxy: Proxy): Promise<void> {
  const c = proxy.config;
  if (!(proxy.backend instanceof IpvsBackend)) {
    // DNATed traffic is forwarded to the endpoints.
    if (await ensureSysctl('net.ipv4.ip_forward', '1'))
      proxy.log.info({ sysctls: ['net.ipv4.ip_forward'] }, 'kernel settings written');
    return;
  }
  const written = await applyIpvsSysctls(c.strictARP);
  if (written.length > 0) proxy.log.info({ sysctls: written }, 'kernel settings written');
  await proxy.backend.setTimeouts({
    tcp: c.tcpTimeout,
    tcpFin: c.tcpFinTimeout,
    udp: c.udpTimeout,
  });
}

async function once(proxy: Proxy, io: CommandIo): Promise<number> {
  const report = await proxy.reconciler.full();
  const left = await proxy.reconciler.plan();
  if (left.length === 0 && report.failed === 0) return 0;
  io.stderr(`kube-ipvs run --once: the kernel still differs from the desired state:\n`);
  for (const op of left) io.stderr(`  ${formatOp(op, proxy.config.interface)}\n`);
  return 1;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (s: NodeJS.Signals): void => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve(s);
    };
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
  });
}

/** The metrics and status servers of this proxy, open from now until closed. */
function startServing(proxy: Proxy): Serving {
  const r = proxy.reconciler;
  const serving = new Serving({
    config: () => proxy.config,
    mode: () => proxy.backend.mode,
    // Read per scrape, not per sync (O(virtual servers)); the destinations are counted per
    // entry, not walked.
    programmed: () => {
      let realServers = 0;
      for (const e of r.observed.values()) realServers += e.destinations.length;
      return { virtualServers: r.observed.size, realServers, draining: r.drains.size };
    },
    healthChecks: () => r.healthChecks,
    healthCheckAddresses: () =>
      proxy.config.nodePortAddresses.length === 0
        ? undefined
        : nodePortAddresses(
            proxy.store.currentNode,
            proxy.config.nodePortAddresses,
            new Report(),
          ).map((ip) => ip.text),
    sourceDownSince: () => proxy.sourceDownSince(),
    log: proxy.log,
  });
  proxy.onNode((n) => serving.onNode(n));
  serving.start();
  return serving;
}

async function serve(
  proxy: Proxy,
  configFile: string | undefined,
  serving: Serving,
  heap: HeapPolicy,
): Promise<number> {
  const loop = new SyncLoop({
    reconciler: proxy.reconciler,
    store: proxy.store,
    log: proxy.log,
    timing: () => ({
      minSyncPeriodMs: proxy.config.minSyncPeriod,
      syncPeriodMs: proxy.config.syncPeriod,
    }),
    onReport: (report) => {
      serving.onSync(report);
      // Once its "synced" line is out, before the next event is read.
      if (report.kind === 'full') heap.collect();
    },
  });
  const watcher =
    configFile === undefined || proxy.configHash === undefined
      ? undefined
      : watchConfig(
          configFile,
          { config: proxy.config, hash: proxy.configHash },
          {
            onChange: (c) => {
              proxy.config = c;
              proxy.store.setConfig(c);
              proxy.log.info({ file: configFile }, 'config reloaded');
              serving.onConfigReload(true);
              loop.requestFull();
            },
            onError: (errors) => {
              serving.onConfigReload(false);
              for (const e of errors)
                proxy.log.error({ error: e.text }, 'config rejected; the running config stays');
            },
          },
        );
  proxy.watch();
  loop.start();
  const signal = await untilSignal();
  proxy.log.info({ signal }, 'stopping; the kernel state is left as it is');
  loop.stop();
  watcher?.close();
  return 0;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'program this node from Services and EndpointSlices, and keep it in sync',
  usage:
    'kube-ipvs run [--config FILE] [--kubeconfig FILE | --manifests DIR] [--node-name NAME]\n' +
    '              [--backend MODE] [--once] [--log-format json|text] [--log-level LEVEL]\n' +
    PROXY_USAGE +
    '\n  --once                 one full sync; exit 0 when the kernel then equals the desired state',
  async run(args, io) {
    const flags = parseProxyFlags(args, { once: { type: 'boolean' } });
    const heap = setHeapPolicy();
    const proxy = await openProxy('run', flags, io);
    if (!proxy) return 1;
    let serving: Serving | undefined;
    try {
      await prepareKernel(proxy);
      if (flags.once) {
        await proxy.ready(SYNC_WAIT_MS);
        return await once(proxy, io);
      }
      serving = startServing(proxy);
      await proxy.ready();
      return await serve(proxy, flags.config, serving, heap);
    } catch (e) {
      io.stderr(`kube-ipvs run: ${message(e)}\n`);
      return 1;
    } finally {
      await serving?.close();
      await proxy.close();
    }
  },
};

// `kube-ipvs run`: the node's proxy. Syncs once, then follows every change until SIGTERM
// or SIGINT, which stop it and leave the kernel as it is (a restart adopts that state,
// so no connection is dropped). `--once` syncs once and checks the result.
import { watchConfig } from '../../config/watch.js';
import { IpvsBackend } from '../../backends/ipvs/backend.js';
import { applyIpvsSysctls } from '../../backends/ipvs/sysctls.js';
import { ensureSysctl } from '../../../bindings/sysctl.js';
import { SyncLoop } from '../../reconcile/loop.js';
import { formatOp } from '../format/ops.js';
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

async function serve(proxy: Proxy, configFile: string | undefined): Promise<number> {
  const loop = new SyncLoop({
    reconciler: proxy.reconciler,
    store: proxy.store,
    log: proxy.log,
    timing: () => ({
      minSyncPeriodMs: proxy.config.minSyncPeriod,
      syncPeriodMs: proxy.config.syncPeriod,
    }),
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
              loop.requestFull();
            },
            onError: (errors) => {
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
    const proxy = await openProxy('run', flags, io);
    if (!proxy) return 1;
    try {
      await prepareKernel(proxy);
      await proxy.ready(flags.once ? SYNC_WAIT_MS : undefined);
      return flags.once ? await once(proxy, io) : await serve(proxy, flags.config);
    } catch (e) {
      io.stderr(`kube-ipvs run: ${message(e)}\n`);
      return 1;
    } finally {
      await proxy.close();
    }
  },
};

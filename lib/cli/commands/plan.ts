// `kube-ipvs plan`: what `run` would change now, without changing it.
import { bindsAddresses } from '../../backends/backend.js';
import { formatOp } from '../format/ops.js';
import type { Command } from './io.js';
import { openProxy, parseProxyFlags, PROXY_USAGE } from './proxy.js';
import { SYNC_WAIT_MS } from './run.js';

export const planCommand: Command = {
  name: 'plan',
  summary: 'print the operations run would apply now (exit 0: none, 2: some)',
  usage:
    'kube-ipvs plan [--config FILE] [--kubeconfig FILE | --manifests DIR] [--node-name NAME]\n' +
    PROXY_USAGE,
  async run(args, io) {
    const flags = parseProxyFlags(args, {});
    const proxy = await openProxy('plan', flags, io);
    if (!proxy) return 1;
    try {
      await proxy.ready(SYNC_WAIT_MS);
      const binds = bindsAddresses(proxy.backend.mode);
      const ops = (await proxy.reconciler.plan()).filter(
        (op) => binds || (op.op !== 'bindAddress' && op.op !== 'unbindAddress'),
      );
      for (const op of ops) io.stdout(`${formatOp(op, proxy.config.interface)}\n`);
      return ops.length === 0 ? 0 : 2;
    } catch (e) {
      io.stderr(`kube-ipvs plan: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    } finally {
      await proxy.close();
    }
  },
};

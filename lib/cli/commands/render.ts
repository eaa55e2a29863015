// `kube-ipvs render`: the desired IPVS state of one node, from a directory of manifests, in
// ipvsadm's save syntax (-S -n). Touches no kernel and needs no root: it only reads files.
import { hostname } from 'node:os';
import { formatSave } from '../format/save.js';
import { parseIp } from '../../net/ip.js';
import type { NodeContext, Skipped, VirtualServer } from '../../model/types.js';
import { collectDesired } from '../../model/desired.js';
import { sortIpvsEntries, toIpvsEntry } from '../../backends/ipvs/convert.js';
import { ManifestSource } from '../../sources/manifests.js';
import { formatProblem } from '../../sources/manifest-parse.js';
import { modelStore } from '../../sources/model-store.js';
import { parseFlags, UsageError, type Command } from './io.js';
import { checkDirectory, readConfigFlag } from './inputs.js';

/** "skipped:" for input left out, "warning:" for a fallback or assumption that drops none. */
export function formatNote(kind: 'skipped' | 'warning', s: Skipped): string {
  return `${kind}: ${s.object}${s.field ? ` ${s.field}` : ''}: ${s.reason}`;
}

export function formatSkipped(s: Skipped): string {
  return formatNote('skipped', s);
}

/** The node name render assumes, and where it came from (said on stderr: R-less but vital). */
export function renderNodeName(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  host: () => string,
): { name: string; from: string } {
  if (flag !== undefined) return { name: flag, from: '--node-name' };
  const fromEnv = env.NODE_NAME;
  if (fromEnv !== undefined && fromEnv !== '') return { name: fromEnv, from: '$NODE_NAME' };
  return { name: host(), from: 'the hostname' };
}

export function renderSave(virtualServers: readonly VirtualServer[]): string {
  return formatSave(sortIpvsEntries(virtualServers.map(toIpvsEntry)), { numeric: true });
}

export const renderCommand: Command = {
  name: 'render',
  summary: 'print the desired IPVS state for a node from manifests (ipvsadm -S syntax)',
  usage:
    'kube-ipvs render --manifests DIR [--node-name NAME] [--node-addresses IP,IP] [--config FILE]\n' +
    '  --manifests DIR        directory of YAML files: Services, EndpointSlices, Endpoints\n' +
    '  --node-name NAME       the node to render for (default: $NODE_NAME, else the hostname)\n' +
    "  --node-addresses LIST  the node's IP addresses, comma-separated (for NodePorts; default none)\n" +
    '  --config FILE          kube-ipvs configuration (default: built-in defaults)',
  async run(args, io) {
    const { values } = parseFlags(args, {
      manifests: { type: 'string' },
      'node-name': { type: 'string' },
      'node-addresses': { type: 'string' },
      config: { type: 'string' },
    });
    if (values.manifests === undefined) throw new UsageError('--manifests DIR is required');
    const nodeName = renderNodeName(values['node-name'], io.env, hostname);
    const addresses: string[] = [];
    for (const raw of (values['node-addresses'] ?? '').split(',')) {
      const a = raw.trim();
      if (a === '') continue;
      const ip = parseIp(a);
      if (!ip) throw new UsageError(`--node-addresses: ${JSON.stringify(a)} is not an IP address`);
      addresses.push(ip.text);
    }
    if (!(await checkDirectory('render', values.manifests, io))) return 1;
    const loaded = await readConfigFlag(values.config, io);
    if (!loaded) return 1;
    const config = loaded.config;
    // Say what is assumed: the output is for this node only (Local policies, NodePorts).
    io.stderr(
      `warning: rendering for node ${JSON.stringify(nodeName.name)} (from ${nodeName.from}), ` +
        `${addresses.length > 0 ? `node addresses ${addresses.join(', ')}` : 'no node addresses (--node-addresses)'}\n`,
    );
    const node: NodeContext = { name: nodeName.name, addresses };
    const store = modelStore(node, config);
    const source = new ManifestSource({ dir: values.manifests, sink: store });
    const scan = await source.load();
    let failed = false;
    for (const p of scan.problems) {
      io.stderr(`${formatProblem(p)}\n`);
      if (p.severity === 'error') failed = true;
    }
    const rendered = collectDesired(store.desiredAll());
    for (const s of rendered.warnings) io.stderr(`${formatNote('warning', s)}\n`);
    for (const s of rendered.skipped) io.stderr(`${formatSkipped(s)}\n`);
    io.stdout(renderSave(rendered.virtualServers));
    return failed ? 1 : 0;
  },
};

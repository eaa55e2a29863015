// What this node offers each backend, for `kube-ipvs check`: the IPVS family and each
// scheduler (proven by a probe virtual server, as `backend: auto` proves them), the
// iptables tools and their flavour, and ipset. The choice `auto` would make follows from it.
import { toolVersion, type ToolVersion } from '../../bindings/version.js';
import { schedulerMapping } from './iptables/rules.js';
import { ipvsProbeProblem, probeIpvs, type IpvsProbe } from './select.js';

export interface ToolReport {
  name: string;
  /** The tool's own version line; iptables names its flavour there ("(nf_tables)", "(legacy)"). */
  version: ToolVersion;
}

export interface NodeCapabilities {
  ipvs: IpvsProbe;
  tools: ToolReport[];
}

export async function nodeCapabilities(schedulers: readonly string[]): Promise<NodeCapabilities> {
  const ipvs = await probeIpvs(schedulers);
  const tools: ToolReport[] = [];
  for (const name of ['iptables', 'ip6tables'])
    tools.push({ name, version: await toolVersion(name, ['--version']) });
  tools.push({ name: 'ipset', version: await toolVersion('ipset', ['version']) });
  return { ipvs, tools };
}

export type AutoChoice =
  | { backend: 'ipvs' }
  | { backend: 'iptables'; approximated: string[] }
  | { backend: 'none'; because: string };

/** What `backend: auto` picks on a node with these capabilities, and why. */
export function autoChoice(c: NodeCapabilities, schedulers: readonly string[]): AutoChoice {
  const problem = ipvsProbeProblem(c.ipvs);
  if (problem === undefined) return { backend: 'ipvs' };
  const iptables = c.tools.find((t) => t.name === 'iptables');
  if (!iptables?.version.ok)
    return {
      backend: 'none',
      because: `${problem}; and ${iptables?.version.ok === false ? iptables.version.reason : 'no iptables'}`,
    };
  const approximated = schedulers.filter((s) => !schedulerMapping(s).exact);
  return { backend: 'iptables', approximated };
}

// `kube-ipvs check`'s node report: one line per fact, "name: what", for people and grep.
import type { AutoChoice, NodeCapabilities } from '../../backends/capabilities.js';

export function formatCapabilities(c: NodeCapabilities, choice: AutoChoice): string {
  const lines: string[] = [];
  if (c.ipvs.familyProblem !== undefined) lines.push(`IPVS: unavailable: ${c.ipvs.familyProblem}`);
  else lines.push('IPVS: generic netlink family "IPVS" present');
  for (const s of c.ipvs.schedulers)
    lines.push(`IPVS scheduler ${s.scheduler}: ${s.ok ? 'ok' : `refused: ${s.reason}`}`);
  for (const t of c.tools) {
    if (!t.version.ok) lines.push(`${t.name}: unavailable: ${t.version.reason}`);
    else lines.push(`${t.name}: ${t.version.line}`);
  }
  lines.push(`backend auto: ${describeChoice(choice)}`);
  return lines.map((l) => `${l}\n`).join('');
}

function describeChoice(choice: AutoChoice): string {
  switch (choice.backend) {
    case 'ipvs':
      return 'ipvs';
    case 'iptables': {
      const approx = choice.approximated.length
        ? `; scheduler${choice.approximated.length === 1 ? '' : 's'} ${choice.approximated.join(', ')} only approximated by iptables rules`
        : '';
      return `iptables (fallback: IPVS cannot be used, as above)${approx}`;
    }
    case 'none':
      return `none: ${choice.because}`;
  }
}

// The iptables backend as the shared scenarios see it on the host kernel: a routed lab
// (no bridge or dummy there), a foreign nat chain that must survive, drift made by
// deleting rules, and no KUBE-IPVS- chain after cleanup.
import { expect } from 'chai';
import { parseSave } from '../../../bindings/iptables/save.js';
import type { Lab } from '../../harness/topology.js';
import type { RunTarget } from '../../harness/scenarios/run.js';
import { hostCheck } from '../../harness/scenarios/host.js';

const FOREIGN_CHAIN = 'TEST-FOREIGN';
const FOREIGN_RULE =
  '-d 192.0.2.50/32 -p tcp -m tcp --dport 9999 -j DNAT --to-destination 10.244.0.11:8080';

async function iptables(lab: Lab, args: string[]): Promise<string> {
  return (await lab.node.exec('iptables', args)).stdout;
}

async function natRules(lab: Lab): Promise<ReturnType<typeof parseSave>> {
  return parseSave((await lab.node.exec('iptables-save', ['-t', 'nat'])).stdout, 'nat');
}

/** Deletes the first rule of a chain that contains `text` (by its position). */
async function deleteRule(lab: Lab, chain: string, text: string): Promise<void> {
  const rules = (await natRules(lab)).rules.get(chain) ?? [];
  const i = rules.findIndex((r) => r.includes(text));
  if (i < 0) throw new Error(`no rule with ${text} in ${chain}:\n${rules.join('\n')}`);
  await iptables(lab, ['-t', 'nat', '-D', chain, String(i + 1)]);
}

export function iptablesTarget(tmpRoot: string): RunTarget {
  return {
    backend: 'iptables',
    check: hostCheck,
    lab: { pods: 'routed', ipvs: false },
    tmpRoot,
    drains: false,
    bindsAddresses: false,
    foreign: {
      add: async (lab) => {
        await iptables(lab, ['-t', 'nat', '-N', FOREIGN_CHAIN]);
        await iptables(lab, ['-t', 'nat', '-A', FOREIGN_CHAIN, ...FOREIGN_RULE.split(' ')]);
        await iptables(lab, ['-t', 'nat', '-A', 'PREROUTING', '-j', FOREIGN_CHAIN]);
      },
      save: '',
      intact: async (lab) => {
        const nat = await natRules(lab);
        expect(nat.rules.get(FOREIGN_CHAIN)).to.deep.equal([FOREIGN_RULE]);
        expect(nat.rules.get('PREROUTING')).to.include(`-j ${FOREIGN_CHAIN}`);
      },
    },
    drift: async (lab, vip, addrs) => {
      // The UDP virtual server's entry rule, and the rule that picks one TCP real server.
      await deleteRule(lab, 'KUBE-IPVS-PORTALS', `"-u ${vip}:53"`);
      const portal = ((await natRules(lab)).rules.get('KUBE-IPVS-PORTALS') ?? []).find((r) =>
        r.includes(`"-t ${vip}:80"`),
      );
      const svc = / -j (\S+)$/.exec(portal ?? '')?.[1] ?? 'none';
      await deleteRule(lab, svc, `-r ${addrs[1]}:8080`);
    },
    cleaned: async (lab) => {
      for (const tool of ['iptables-save', 'ip6tables-save']) {
        const out = (await lab.node.exec(tool, [])).stdout;
        expect(out.split('\n').filter((l) => l.includes('KUBE-IPVS-'))).to.deep.equal([]);
      }
    },
  };
}

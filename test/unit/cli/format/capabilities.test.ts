// `kube-ipvs check`'s node report and the choice `backend: auto` makes from it (DESIGN §6).
import { expect } from 'chai';
import { autoChoice, type NodeCapabilities } from '../../../../lib/backends/capabilities.js';
import { formatCapabilities } from '../../../../lib/cli/format/capabilities.js';

const tools: NodeCapabilities['tools'] = [
  { name: 'iptables', version: { ok: true, line: 'iptables v1.8.9 (nf_tables)' } },
  { name: 'ip6tables', version: { ok: true, line: 'ip6tables v1.8.9 (legacy)' } },
  { name: 'ipset', version: { ok: false, reason: 'ipset is not installed' } },
];

describe('check: the node report', () => {
  it('IPVS with every scheduler working: auto picks ipvs', () => {
    const c: NodeCapabilities = {
      ipvs: { schedulers: [{ scheduler: 'rr', ok: true }] },
      tools,
    };
    const choice = autoChoice(c, ['rr']);
    expect(choice).to.deep.equal({ backend: 'ipvs' });
    expect(formatCapabilities(c, choice)).to.equal(
      'IPVS: generic netlink family "IPVS" present\n' +
        'IPVS scheduler rr: ok\n' +
        'iptables: iptables v1.8.9 (nf_tables)\n' +
        'ip6tables: ip6tables v1.8.9 (legacy)\n' +
        'ipset: unavailable: ipset is not installed\n' +
        'backend auto: ipvs\n',
    );
  });

  it('one scheduler refused: auto falls back and names the approximated schedulers', () => {
    const c: NodeCapabilities = {
      ipvs: {
        schedulers: [
          { scheduler: 'rr', ok: true },
          { scheduler: 'sed', ok: false, reason: 'No such file or directory' },
        ],
      },
      tools,
    };
    const choice = autoChoice(c, ['rr', 'sed']);
    expect(choice).to.deep.equal({ backend: 'iptables', approximated: ['sed'] });
    const text = formatCapabilities(c, choice);
    expect(text).to.contain('IPVS scheduler sed: refused: No such file or directory\n');
    expect(text).to.match(
      /backend auto: iptables \(.*\); scheduler sed only approximated by iptables rules\n$/,
    );
  });

  it('no IPVS family and no iptables: no backend', () => {
    const c: NodeCapabilities = {
      ipvs: { familyProblem: 'the kernel has no IPVS generic netlink family', schedulers: [] },
      tools: [{ name: 'iptables', version: { ok: false, reason: 'iptables is not installed' } }],
    };
    const choice = autoChoice(c, ['rr']);
    expect(choice.backend).to.equal('none');
    const text = formatCapabilities(c, choice);
    expect(text).to.contain('IPVS: unavailable: the kernel has no IPVS generic netlink family\n');
    expect(text).to.match(/backend auto: none: .*iptables is not installed\n$/);
  });
});

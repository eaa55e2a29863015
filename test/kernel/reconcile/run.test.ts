// `kube-ipvs run`, `plan` and `cleanup` against the real kernel inside UML with the IPVS
// backend: the shared scenarios of test/harness/scenarios/run.ts (the iptables backend
// runs the same ones on the host kernel).
import { assertInUml } from '../../harness/in-uml.js';
import { runScenarios } from '../../harness/scenarios/run.js';
import * as d from '../../harness/daemon.js';

/**
 * A virtual server kube-ipvs does not own (its address is neither on kube-ipvs0 nor the
 * node's). ipvsadm's wrapping address comparison lists it before 10.96.0.10.
 */
const FOREIGN = '-A -t 192.0.2.50:9999 -s wlc\n';

describe('kube-ipvs run, plan and cleanup in the kernel (manifests source)', function () {
  this.timeout(120_000);
  runScenarios({
    backend: 'ipvs',
    check: assertInUml,
    lab: {},
    // /run is a tmpfs inside UML: inotify sees changes there, as on a ConfigMap volume
    // (the host filesystem UML boots from reports none).
    tmpRoot: '/run',
    drains: true,
    bindsAddresses: true,
    foreign: {
      add: async (lab) => {
        await d.ipvsadm(lab.node, ['-A', '-t', '192.0.2.50:9999', '-s', 'wlc']);
      },
      save: FOREIGN,
      // The table comparisons include it.
      intact: () => Promise.resolve(),
    },
    drift: async (lab, vip, addrs) => {
      await d.ipvsadm(lab.node, ['-D', '-u', `${vip}:53`]);
      await d.ipvsadm(lab.node, [
        '-e',
        '-t',
        `${vip}:80`,
        '-r',
        `${addrs[1]}:8080`,
        '-m',
        '-w',
        '5',
      ]);
    },
    cleaned: async (lab) => {
      const links = await lab.node.ip(['-o', 'link', 'show']);
      if (links.includes('kube-ipvs0')) throw new Error(`kube-ipvs0 is still there:\n${links}`);
    },
  });
});

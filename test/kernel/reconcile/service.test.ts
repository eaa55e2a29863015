// Service behaviour with real connections through IPVS in the kernel inside UML: the
// shared scenarios of test/harness/scenarios/service.ts (the iptables backend runs the
// same ones on the host kernel), on the routed dual-stack lab so IPv6 runs here too.
import { assertInUml } from '../../harness/in-uml.js';
import { serviceScenarios } from '../../harness/scenarios/service.js';

describe('Services through IPVS with real connections, in the kernel', function () {
  this.timeout(180_000);
  serviceScenarios({
    backend: 'ipvs',
    check: assertInUml,
    lab: { pods: 'routed' },
    // /run is a tmpfs inside UML: inotify sees changes there.
    tmpRoot: '/run',
    drains: true,
  });
});

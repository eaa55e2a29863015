// The iptables backend on the host kernel (which has no IPVS: the node this backend is
// for), inside network namespaces this test creates: the shared `kube-ipvs run`, `plan`
// and `cleanup` scenarios of test/harness/scenarios/run.ts, which the IPVS backend runs in
// UML.
import { tmpdir } from 'node:os';
import { runScenarios } from '../../harness/scenarios/run.js';
import { iptablesTarget } from './target.js';

describe('kube-ipvs run, plan and cleanup with the iptables backend (host kernel, netns)', function () {
  this.timeout(120_000);
  runScenarios(iptablesTarget(tmpdir()));
});

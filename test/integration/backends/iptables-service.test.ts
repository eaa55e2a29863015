// Service behaviour with real connections through the iptables backend, on the host
// kernel in network namespaces this test creates: the shared scenarios of
// test/harness/scenarios/service.ts.
import { tmpdir } from 'node:os';
import { serviceScenarios } from '../../harness/scenarios/service.js';
import { iptablesTarget } from './target.js';

describe('Services through the iptables backend with real connections (host kernel, netns)', function () {
  this.timeout(180_000);
  serviceScenarios(iptablesTarget(tmpdir()));
});

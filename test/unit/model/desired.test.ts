// Cross-Service conflict resolution (lib/model/desired.ts).
import { expect } from 'chai';
import fc from 'fast-check';
import { collectDesired, translate, type ServiceResult } from '../../../lib/model/index.js';
import { NODE_A, config, slice, svc, A1 } from './fixtures.js';

let nextClusterIP = 1;
function result(ns: string, name: string, externalIP: string): ServiceResult {
  const clusterIP = `10.0.0.${nextClusterIP++}`;
  return translate(
    svc({
      name,
      namespace: ns,
      spec: { clusterIP, clusterIPs: [clusterIP], externalIPs: [externalIP] },
    }),
    [slice([A1], undefined, { service: name, namespace: ns })],
    NODE_A,
    config(),
  );
}

describe('model/desired: one set of virtual servers from all Services', () => {
  it('the first Service by key keeps a contested virtual server; the other is told', () => {
    const a = result('ns', 'a', '192.0.2.10');
    const b = result('ns', 'b', '192.0.2.10');
    expect(a.virtualServers.length).to.be.greaterThan(0);
    const d = collectDesired([
      ['ns/b', b],
      ['ns/a', a],
    ]);
    const contested = d.virtualServers.filter((v) => v.address === '192.0.2.10');
    expect(contested).to.have.length(1);
    expect(contested[0]?.owner.name).to.equal('a');
    expect(d.skipped).to.deep.include({
      object: 'Service ns/b',
      field: '',
      reason: 'virtual server TCP/192.0.2.10:80 is already taken by Service ns/a',
    });
    // Keys are unique.
    expect(new Set(d.virtualServers.map((v) => v.key)).size).to.equal(d.virtualServers.length);
  });

  it('warnings are kept and de-duplicated across Services', () => {
    const w = { object: 'Config', field: 'nodePortAddresses', reason: 'x' };
    const d = collectDesired([
      ['ns/a', { virtualServers: [], skipped: [], warnings: [w] }],
      ['ns/b', { virtualServers: [], skipped: [], warnings: [w] }],
    ]);
    expect(d.warnings).to.deep.equal([w]);
  });

  it('does not depend on the order Services are given in', () => {
    const inputs: [string, ServiceResult][] = [
      ['ns/a', result('ns', 'a', '192.0.2.10')],
      ['ns/b', result('ns', 'b', '192.0.2.10')],
      ['ns/c', result('ns', 'c', '192.0.2.11')],
      ['ns/d', result('ns', 'd', '192.0.2.11')],
    ];
    const want = collectDesired(inputs);
    expect(want.virtualServers.length).to.be.greaterThan(2);
    fc.assert(
      fc.property(fc.shuffledSubarray(inputs, { minLength: 4, maxLength: 4 }), (order) => {
        expect(collectDesired(order)).to.deep.equal(want);
      }),
    );
  });
});

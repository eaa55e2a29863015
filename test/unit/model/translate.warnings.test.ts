// What translate assumed or fell back on, apart from what it left out; and its treatment of
// addresses with an embedded IPv4 (glibc text, R16.1).
import { expect } from 'chai';
import type { V1Service } from '@kubernetes/client-node';
import { translate } from '../../../lib/model/index.js';
import { A1, B1, NODE_A, config, slice, svc } from './fixtures.js';

describe('model/translate: warnings and embedded-IPv4 addresses', () => {
  it('a spec that is not a map is reported as such, not as a missing cluster IP', () => {
    const bad = { ...svc(), spec: 'notamap' } as unknown as V1Service;
    const r = translate(bad, [], NODE_A, config());
    expect(r.virtualServers).to.deep.equal([]);
    expect(r.skipped).to.deep.equal([
      {
        object: 'Service default/svc-web',
        field: 'spec',
        reason: 'expected a map/object, got "notamap"',
      },
    ]);
  });

  it('a Local policy with no usable endpoint on this node warns that traffic is dropped', () => {
    const s = svc({ spec: { internalTrafficPolicy: 'Local' } });
    const r = translate(s, [slice([B1])], NODE_A, config());
    expect(r.virtualServers).to.have.length(1);
    expect(r.virtualServers[0]?.realServers).to.deep.equal([]);
    expect(r.skipped).to.deep.equal([]);
    expect(r.warnings).to.deep.equal([
      {
        object: 'Service default/svc-web',
        field: 'spec.internalTrafficPolicy',
        reason:
          'Local, and no usable endpoint of port "" on node "node-a": traffic to TCP/10.0.170.92:80 is dropped',
      },
    ]);
    // With a local endpoint there is nothing to say.
    expect(translate(s, [slice([A1])], NODE_A, config()).warnings).to.deep.equal([]);
  });

  it('a slice port that no Service port uses is a warning naming it', () => {
    const r = translate(
      svc(),
      [slice([A1], [{ port: 8080 }, { name: 'metrics', port: 9090 }])],
      NODE_A,
      config(),
    );
    expect(r.virtualServers[0]?.realServers).to.have.length(1);
    expect(r.warnings).to.deep.equal([
      {
        object: 'EndpointSlice default/svc-web-abc',
        field: 'ports',
        reason:
          'port "metrics"/TCP matches no port of Service default/svc-web; its endpoints are not used for it',
      },
    ]);
  });

  const nodePortSvc = svc({
    spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30007 }] },
  });

  it('NodePorts with no node address: a warning, and only the cluster IP is programmed', () => {
    const r = translate(nodePortSvc, [slice([A1])], { name: 'node-a', addresses: [] }, config());
    expect(r.virtualServers.map((v) => v.key)).to.deep.equal(['TCP/10.0.170.92:80']);
    expect(r.warnings).to.deep.equal([
      {
        object: 'Node node-a',
        field: 'addresses',
        reason: 'no addresses are known for this node; NodePorts are left out',
      },
    ]);
  });

  it('nodePortAddresses [primary] without a Node object blames no Node', () => {
    const r = translate(
      nodePortSvc,
      [slice([A1])],
      NODE_A,
      config({ nodePortAddresses: ['primary'] }),
    );
    expect(r.virtualServers.map((v) => v.key)).to.deep.equal(['TCP/10.0.170.92:80']);
    expect(r.skipped).to.deep.equal([]);
    expect(r.warnings).to.have.length(1);
    expect(r.warnings[0]?.object).to.equal('Config');
    expect(r.warnings[0]?.reason).to.match(/^\[primary\] needs the Node object/);
  });

  it('R16.1: an IPv4-mapped VIP or endpoint is refused, named in glibc text with "an"', () => {
    const s = svc({
      spec: {
        ipFamilies: ['IPv6'],
        clusterIP: 'fd00::10',
        clusterIPs: ['fd00::10'],
        externalIPs: ['::ffff:1.2.3.4'],
      },
    });
    const r = translate(
      s,
      [slice([{ ip: '::ffff:10.0.0.1' }, { ip: 'fd00::a00:3' }])],
      NODE_A,
      config(),
    );
    expect(r.virtualServers.map((v) => v.key)).to.deep.equal(['TCP/[fd00::10]:80']);
    expect(r.virtualServers[0]?.realServers.map((x) => x.address)).to.deep.equal(['fd00::a00:3']);
    expect(r.skipped.map((x) => x.reason)).to.deep.equal([
      '::ffff:10.0.0.1 is an IPv4-mapped address, not allowed as an endpoint',
      '::ffff:1.2.3.4 is an IPv4-mapped address',
    ]);
  });

  it('R16.1: an IPv4-compatible address (::a.b.c.d) is plain IPv6, in the text a kernel dump gives', () => {
    const s = svc({
      spec: {
        ipFamilies: ['IPv6'],
        clusterIP: 'fd00::10',
        clusterIPs: ['fd00::10'],
        externalIPs: ['::102:305'],
      },
    });
    const r = translate(s, [slice([{ ip: '::10.0.0.2' }])], NODE_A, config());
    expect(r.virtualServers.map((v) => v.key)).to.deep.equal([
      'TCP/[::1.2.3.5]:80',
      'TCP/[fd00::10]:80',
    ]);
    expect(r.virtualServers[0]?.realServers.map((x) => x.address)).to.deep.equal(['::10.0.0.2']);
  });
});

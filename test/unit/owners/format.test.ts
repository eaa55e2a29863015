// owners/format: the owner map lvsadm --k8s reads, its text and its naming of a Service port.
import { expect } from 'chai';
import {
  formatOwnerMap,
  ownerText,
  ownersPath,
  parseOwnerMap,
  type OwnerEntry,
} from '../../../lib/owners/format.js';
import { ownerSuffix } from '../../../lib/owners/read.js';
import type { IpvsServiceId } from '../../../bindings/ipvs/codec.js';

const web: OwnerEntry = {
  namespace: 'default',
  name: 'web',
  portName: 'http',
  port: 80,
  kind: 'ClusterIP',
};
const dns: OwnerEntry = {
  namespace: 'kube-system',
  name: 'dns',
  portName: '',
  port: 53,
  kind: 'ClusterIP',
};

describe('owners/format (the owner map of lvsadm --k8s)', function () {
  it('names a port as kubectl users do: its name, else its number', function () {
    expect(ownerText(web)).to.equal('default/web:http');
    expect(ownerText(dns)).to.equal('kube-system/dns:53');
    // A NodePort entry names the Service port, not the node port it listens on.
    expect(ownerText({ ...web, portName: '', port: 8080, kind: 'NodePort' })).to.equal(
      'default/web:8080',
    );
  });

  it('writes sorted JSON, one virtual server per line, and reads back what it wrote', function () {
    const text = formatOwnerMap('node-a', [
      ['UDP/[fd00::a]:53', dns],
      ['TCP/10.96.0.10:80', web],
    ]);
    expect(text).to.equal(
      '{\n' +
        '  "apiVersion": "kube-ipvs.io/v1alpha1",\n' +
        '  "kind": "OwnerMap",\n' +
        '  "node": "node-a",\n' +
        '  "virtualServers": {\n' +
        '    "TCP/10.96.0.10:80": {"namespace":"default","name":"web","portName":"http","port":80,"kind":"ClusterIP"},\n' +
        '    "UDP/[fd00::a]:53": {"namespace":"kube-system","name":"dns","portName":"","port":53,"kind":"ClusterIP"}\n' +
        '  }\n' +
        '}\n',
    );
    const back = parseOwnerMap(text);
    expect(back.node).to.equal('node-a');
    expect([...back.virtualServers]).to.deep.equal([
      ['TCP/10.96.0.10:80', web],
      ['UDP/[fd00::a]:53', dns],
    ]);
    expect(parseOwnerMap(formatOwnerMap('n', [])).virtualServers.size).to.equal(0);
  });

  it('says what is wrong with a file that is not an owner map', function () {
    expect(() => parseOwnerMap('{')).to.throw(/^not JSON/);
    expect(() => parseOwnerMap('{"kind":"Other"}')).to.throw(
      'not a kube-ipvs.io/v1alpha1 OwnerMap',
    );
    expect(() =>
      parseOwnerMap(
        '{"apiVersion":"kube-ipvs.io/v1alpha1","kind":"OwnerMap","virtualServers":{"TCP/1.2.3.4:80":{"name":"x"}}}',
      ),
    ).to.throw('virtualServers["TCP/1.2.3.4:80"] is not an owner');
  });

  it('lives in $KUBE_IPVS_RUN_DIR, else /run/kube-ipvs', function () {
    expect(ownersPath({})).to.equal('/run/kube-ipvs/owners.json');
    expect(ownersPath({ KUBE_IPVS_RUN_DIR: '/tmp/x/' })).to.equal('/tmp/x/owners.json');
  });

  it('looks a kernel service up by its model key; anything else is <none>', function () {
    const map = parseOwnerMap(
      formatOwnerMap('n', [
        ['TCP/10.96.0.10:80', web],
        ['UDP/[fd00::a]:53', dns],
      ]),
    );
    const svc: IpvsServiceId = {
      family: 2,
      protocol: 6,
      address: '10.96.0.10',
      port: 80,
      fwmark: 0,
    };
    expect(ownerSuffix(map, svc)).to.equal('  default/web:http');
    expect(
      ownerSuffix(map, { ...svc, family: 10 as const, protocol: 17, address: 'fd00::a', port: 53 }),
    ).to.equal('  kube-system/dns:53');
    expect(ownerSuffix(map, { ...svc, port: 81 })).to.equal('  <none>');
    expect(ownerSuffix(map, { ...svc, protocol: 0, fwmark: 5 })).to.equal('  <none>');
  });
});

// The nat rules for SNAT, as text: the exact rules (in iptables-save's canonical form, seen
// from iptables-legacy 1.8.9), and the restore input that gets there from a saved table.
import { expect } from 'chai';
import { parseSave } from '../../../../bindings/iptables/save.js';
import {
  natCleanup,
  natRestore,
  natRuleset,
  setName,
} from '../../../../lib/backends/ipvs/masquerade.js';

const POST = [
  '-m comment --comment "hairpin: a pod sent to itself through a Service" -m set --match-set KUBE-IPVS-LOOP-BACK dst,dst,src -j MASQUERADE',
  '-m mark ! --mark 0x4000/0x4000 -j RETURN',
  '-j MARK --set-xmark 0x4000/0x0',
  '-m comment --comment "kube-ipvs service traffic requiring SNAT" -j MASQUERADE',
];
const EXTERNAL =
  '-m comment --comment "entry points with externalTrafficPolicy Cluster" -m set --match-set KUBE-IPVS-EXTERNAL dst,dst -j KUBE-IPVS-MARK-MASQ';
const PORTALS = '-m comment --comment "kube-ipvs service portals" -j KUBE-IPVS-SERVICES';
const POSTJUMP = '-m comment --comment "kube-ipvs postrouting rules" -j KUBE-IPVS-POSTROUTING';

function fullRestore(services: string[]): string {
  return [
    '*nat',
    ':KUBE-IPVS-SERVICES - [0:0]',
    ':KUBE-IPVS-MARK-MASQ - [0:0]',
    ':KUBE-IPVS-POSTROUTING - [0:0]',
    ...services.map((r) => `-A KUBE-IPVS-SERVICES ${r}`),
    '-A KUBE-IPVS-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    ...POST.map((r) => `-A KUBE-IPVS-POSTROUTING ${r}`),
    `-I PREROUTING 1 ${PORTALS}`,
    `-I OUTPUT 1 ${PORTALS}`,
    `-I POSTROUTING 1 ${POSTJUMP}`,
    'COMMIT',
    '',
  ].join('\n');
}

const empty = parseSave('*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n', 'nat');

describe('backends/ipvs masquerade rules', function () {
  it('R10.1 R10.3: default: Cluster-policy entry points and VIP-sourced ClusterIP traffic are marked', function () {
    const want = natRuleset(4, { masqueradeAll: false, clusterCIDR: [] });
    expect(natRestore(want, empty)).to.equal(
      fullRestore([
        EXTERNAL,
        '-m comment --comment "ClusterIP traffic from a ClusterIP" -m set --match-set KUBE-IPVS-CLUSTER-IP src,dst -j KUBE-IPVS-MARK-MASQ',
      ]),
    );
  });

  it('masqueradeAll marks every ClusterIP connection', function () {
    const want = natRuleset(4, { masqueradeAll: true, clusterCIDR: ['10.244.0.0/16'] });
    expect(want.chains.get('KUBE-IPVS-SERVICES')).to.deep.equal([
      EXTERNAL,
      '-m comment --comment "masqueradeAll: every ClusterIP connection" -m set --match-set KUBE-IPVS-CLUSTER-IP dst,dst -j KUBE-IPVS-MARK-MASQ',
    ]);
  });

  it('clusterCIDR marks ClusterIP traffic from outside the pod CIDR of the family, as iptables-save prints it', function () {
    const v4 = natRuleset(4, {
      masqueradeAll: false,
      clusterCIDR: ['fd00:10::/64', '10.244.1.7/16'],
    });
    expect(v4.chains.get('KUBE-IPVS-SERVICES')?.[1]).to.equal(
      '! -s 10.244.0.0/16 -m comment --comment "ClusterIP traffic from outside the pod network" -m set --match-set KUBE-IPVS-CLUSTER-IP dst,dst -j KUBE-IPVS-MARK-MASQ',
    );
    const v6 = natRuleset(6, {
      masqueradeAll: false,
      clusterCIDR: ['10.244.0.0/16', 'FD00:10:0::/64'],
    });
    expect(v6.chains.get('KUBE-IPVS-SERVICES')).to.deep.equal([
      '-m comment --comment "entry points with externalTrafficPolicy Cluster" -m set --match-set KUBE-IPVS-6-EXTERNAL dst,dst -j KUBE-IPVS-MARK-MASQ',
      '! -s fd00:10::/64 -m comment --comment "ClusterIP traffic from outside the pod network" -m set --match-set KUBE-IPVS-6-CLUSTER-IP dst,dst -j KUBE-IPVS-MARK-MASQ',
    ]);
    expect(v6.chains.get('KUBE-IPVS-POSTROUTING')?.[0]).to.include(
      'KUBE-IPVS-6-LOOP-BACK dst,dst,src',
    );
  });

  it('set names: IPv6 carries -6-, all fit ipset 31 characters', function () {
    expect(setName(4, 'loopBack')).to.equal('KUBE-IPVS-LOOP-BACK');
    expect(setName(6, 'clusterIP')).to.equal('KUBE-IPVS-6-CLUSTER-IP');
  });

  describe('natRestore against a saved table', function () {
    const want = natRuleset(4, { masqueradeAll: false, clusterCIDR: ['10.244.0.0/16'] });
    const installed = (extra: { pre?: string[]; post?: string[]; svc?: string[] } = {}): string => {
      const svc = extra.svc ?? [...(want.chains.get('KUBE-IPVS-SERVICES') ?? [])];
      return [
        '*nat',
        ':PREROUTING ACCEPT [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        ':POSTROUTING ACCEPT [0:0]',
        ':KUBE-IPVS-MARK-MASQ - [0:0]',
        ':KUBE-IPVS-POSTROUTING - [0:0]',
        ':KUBE-IPVS-SERVICES - [0:0]',
        ...(extra.pre ?? [PORTALS]).map((r) => `-A PREROUTING ${r}`),
        `-A OUTPUT ${PORTALS}`,
        '-A POSTROUTING -s 10.1.0.0/16 -j MASQUERADE',
        ...(extra.post ?? [POSTJUMP]).map((r) => `-A POSTROUTING ${r}`),
        '-A KUBE-IPVS-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
        ...POST.map((r) => `-A KUBE-IPVS-POSTROUTING ${r}`),
        ...svc.map((r) => `-A KUBE-IPVS-SERVICES ${r}`),
        'COMMIT',
        '',
      ].join('\n');
    };

    it('is empty when our chains and jumps are as wanted (a jump need not be first)', function () {
      expect(natRestore(want, parseSave(installed(), 'nat'))).to.equal('');
    });

    it('rewrites our chains and fixes a duplicated or missing jump, leaving other rules alone', function () {
      const text = natRestore(
        want,
        parseSave(installed({ pre: [PORTALS, PORTALS], post: [] }), 'nat'),
      );
      const lines = text.split('\n');
      expect(lines).to.include(`-D PREROUTING ${PORTALS}`);
      expect(lines.filter((l) => l === `-D PREROUTING ${PORTALS}`)).to.have.length(2);
      expect(lines).to.include(`-I PREROUTING 1 ${PORTALS}`);
      expect(lines).to.include(`-I POSTROUTING 1 ${POSTJUMP}`);
      expect(lines.some((l) => l.includes('OUTPUT'))).to.equal(false);
      expect(lines.some((l) => l.includes('10.1.0.0/16'))).to.equal(false);
      expect(lines.filter((l) => l.startsWith(':'))).to.deep.equal([
        ':KUBE-IPVS-SERVICES - [0:0]',
        ':KUBE-IPVS-MARK-MASQ - [0:0]',
        ':KUBE-IPVS-POSTROUTING - [0:0]',
      ]);
    });

    it('a config change (a changed rule in our chain) rewrites the chains', function () {
      const before = natRuleset(4, { masqueradeAll: false, clusterCIDR: [] });
      const saved = parseSave(
        installed({ svc: [...(before.chains.get('KUBE-IPVS-SERVICES') ?? [])] }),
        'nat',
      );
      const text = natRestore(want, saved);
      expect(text).to.include('-A KUBE-IPVS-SERVICES ! -s 10.244.0.0/16 ');
      expect(text).not.to.include('-I ');
    });

    it('cleanup deletes only our jumps, then flushes and deletes our chains', function () {
      expect(natCleanup(parseSave(installed(), 'nat'))).to.equal(
        [
          '*nat',
          `-D PREROUTING ${PORTALS}`,
          `-D OUTPUT ${PORTALS}`,
          `-D POSTROUTING ${POSTJUMP}`,
          '-F KUBE-IPVS-SERVICES',
          '-F KUBE-IPVS-MARK-MASQ',
          '-F KUBE-IPVS-POSTROUTING',
          '-X KUBE-IPVS-SERVICES',
          '-X KUBE-IPVS-MARK-MASQ',
          '-X KUBE-IPVS-POSTROUTING',
          'COMMIT',
          '',
        ].join('\n'),
      );
      expect(natCleanup(empty)).to.equal('');
    });
  });
});

// Set membership from the desired table: which virtual server needs which member, counted
// so shared members stay, and the per-event change is only what moved.
import { expect } from 'chai';
import fc from 'fast-check';
import type { IpsetElements } from '../../../../bindings/ipset/client.js';
import {
  ElementRequest,
  elementEntry,
  entryFamily,
  formatEntry,
  readEntry,
} from '../../../../bindings/ipset/codec.js';
import { SET_ROLES, setName } from '../../../../lib/backends/ipvs/masquerade.js';
import {
  SetMembership,
  membersOf,
  type MemberChange,
} from '../../../../lib/backends/ipvs/masquerade-sets.js';
import { parseIp } from '../../../../lib/net/ip.js';
import {
  virtualServerKey,
  type VirtualServerKey,
  type EntryKind,
  type Protocol,
  type TrafficPolicy,
  type VirtualServer,
} from '../../../../lib/model/types.js';

/**
 * What turns the kernel's members into the wanted ones, for the sets named in `wanted`,
 * in text: the reference SetMembership.diff is tested against.
 */
function diffMembers(
  wanted: ReadonlyMap<string, ReadonlySet<string>>,
  kernel: ReadonlyMap<string, ReadonlySet<string>>,
): MemberChange {
  const change: MemberChange = { add: [], del: [] };
  for (const [set, want] of wanted) {
    const have = kernel.get(set) ?? new Set<string>();
    for (const e of want) if (!have.has(e)) change.add.push({ set, entry: e });
    for (const e of have) if (!want.has(e)) change.del.push({ set, entry: e });
  }
  return change;
}

function vs(
  kind: EntryKind,
  address: string,
  port: number,
  reals: string[],
  policy: TrafficPolicy = 'Cluster',
  protocol: Protocol = 'TCP',
): VirtualServer {
  return {
    key: virtualServerKey(protocol, address, port),
    family: address.includes(':') ? 'IPv6' : 'IPv4',
    protocol,
    address,
    port,
    scheduler: 'rr',
    schedulerFlags: [],
    persistenceTimeout: 0,
    netmask: address.includes(':') ? 128 : 32,
    trafficPolicy: policy,
    realServers: reals.map((a) => ({ address: a, port: 8080, weight: 1 })),
    owner: { namespace: 'default', name: 'web', portName: '', servicePort: port, kind },
  };
}

const canon = (a: string): string => parseIp(a)?.text ?? a;

const server = fc.record({
  kind: fc.constantFrom<EntryKind>('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalIP'),
  v6: fc.boolean(),
  policy: fc.constantFrom<TrafficPolicy>('Cluster', 'Local'),
  protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'),
  port: fc.integer({ min: 1, max: 65535 }),
  a4: fc.ipV4(),
  a6: fc.ipV6(),
  reals4: fc.array(fc.ipV4(), { maxLength: 4 }),
  reals6: fc.array(fc.ipV6(), { maxLength: 4 }),
});

/** One virtual server per spec, under distinct keys whatever the addresses drawn. */
function servers(specs: ReadonlyArray<typeof server extends fc.Arbitrary<infer T> ? T : never>) {
  return specs.map((x, i) => {
    const v = vs(
      x.kind,
      canon(x.v6 ? x.a6 : x.a4),
      x.port,
      (x.v6 ? x.reals6 : x.reals4).map(canon),
      x.policy,
      x.protocol,
    );
    return { ...v, key: `${v.key}#${i}` as VirtualServerKey };
  });
}

/** A request's bytes and the text it names itself by in errors, or why it was refused. */
function encoded(r: ElementRequest, fill: () => void): string {
  try {
    fill();
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
  const b = Buffer.alloc(r.length, 0xee);
  r.write(b, 0);
  return `${r.type} ${b.toString('hex')} ${r.describe()}`;
}

/** Each element as IpsetClient.changeElements would send it. */
function viaElements(els: IpsetElements): string[] {
  const r = new ElementRequest();
  return Array.from({ length: els.count }, (_, i) =>
    encoded(r, () => {
      els.read(i, r);
      r.target(els.op, els.set);
    }),
  );
}

/** Each change in text as IpsetClient.change would send it. */
function viaText(op: 'add' | 'del', set: string, entry: string): string {
  const r = new ElementRequest();
  return encoded(r, () => {
    readEntry(entry, entryFamily(entry), r);
    r.target(op, set);
  });
}

/** The texts of elements that read (in the form the kernel lists them). */
function texts(els: IpsetElements): string[] {
  const r = new ElementRequest();
  return Array.from({ length: els.count }, (_, i) => {
    els.read(i, r);
    return formatEntry(elementEntry(r));
  });
}

describe('backends/ipvs masquerade set membership', function () {
  it('R10.1 R10.3: Cluster-policy NodePort/LB/externalIP entries are in EXTERNAL, Local ones are not', function () {
    expect(membersOf(vs('NodePort', '192.168.1.10', 30080, []))).to.deep.equal([
      { set: 'KUBE-IPVS-EXTERNAL', entry: '192.168.1.10,tcp:30080' },
    ]);
    expect(membersOf(vs('LoadBalancer', '203.0.113.5', 443, [], 'Cluster', 'SCTP'))).to.deep.equal([
      { set: 'KUBE-IPVS-EXTERNAL', entry: '203.0.113.5,sctp:443' },
    ]);
    expect(membersOf(vs('ExternalIP', '203.0.113.6', 53, [], 'Local', 'UDP'))).to.deep.equal([]);
    expect(membersOf(vs('NodePort', '192.168.1.10', 30080, [], 'Local'))).to.deep.equal([]);
  });

  it('ClusterIPs go to CLUSTER-IP whatever the policy; every endpoint to LOOP-BACK (hairpin)', function () {
    expect(membersOf(vs('ClusterIP', 'fd00::a', 80, ['fd00:10::5'], 'Local'))).to.deep.equal([
      { set: 'KUBE-IPVS-6-CLUSTER-IP', entry: 'fd00::a,tcp:80' },
      { set: 'KUBE-IPVS-6-LOOP-BACK', entry: 'fd00:10::5,tcp:8080,fd00:10::5' },
    ]);
  });

  it('a member shared by two virtual servers stays until the last one goes', function () {
    const m = new SetMembership();
    const cip = vs('ClusterIP', '10.96.0.10', 80, ['10.244.0.11', '10.244.0.12']);
    const np = vs('NodePort', '192.168.1.10', 30080, ['10.244.0.11']);
    expect(m.update(cip.key, cip).add).to.have.length(3);
    const c = m.update(np.key, np);
    expect(c).to.deep.equal({
      add: [{ set: 'KUBE-IPVS-EXTERNAL', entry: '192.168.1.10,tcp:30080' }],
      del: [],
    });
    // Scale down the ClusterIP: .11 is still the NodePort's, .12 goes.
    const smaller = vs('ClusterIP', '10.96.0.10', 80, ['10.244.0.11']);
    expect(m.update(cip.key, smaller)).to.deep.equal({
      add: [],
      del: [{ set: 'KUBE-IPVS-LOOP-BACK', entry: '10.244.0.12,tcp:8080,10.244.0.12' }],
    });
    // The NodePort turns Local: only its EXTERNAL member goes.
    expect(
      m.update(np.key, vs('NodePort', '192.168.1.10', 30080, ['10.244.0.11'], 'Local')),
    ).to.deep.equal({
      add: [],
      del: [{ set: 'KUBE-IPVS-EXTERNAL', entry: '192.168.1.10,tcp:30080' }],
    });
    m.update(np.key, undefined);
    expect(m.update(cip.key, undefined).del).to.deep.equal([
      { set: 'KUBE-IPVS-CLUSTER-IP', entry: '10.96.0.10,tcp:80' },
      { set: 'KUBE-IPVS-LOOP-BACK', entry: '10.244.0.11,tcp:8080,10.244.0.11' },
    ]);
    expect([...m.wanted().values()].every((s) => s.size === 0)).to.equal(true);
    expect(m.families().size).to.equal(0);
  });

  it('size() counts each set as members come and go; a fresh copy with the same members changes nothing', function () {
    const m = new SetMembership();
    const cip = vs('ClusterIP', '10.96.0.10', 80, ['10.244.0.11', '10.244.0.12']);
    const np = vs('NodePort', '192.168.1.10', 30080, ['10.244.0.11']);
    m.update(cip.key, cip);
    m.update(np.key, np);
    const sizes = () =>
      ['KUBE-IPVS-CLUSTER-IP', 'KUBE-IPVS-EXTERNAL', 'KUBE-IPVS-LOOP-BACK'].map((s) => m.size(s));
    expect(sizes()).to.deep.equal([1, 1, 2]);
    for (const [set, members] of m.wanted()) expect(m.size(set)).to.equal(members.size);
    // A full resync translates again: equal content in new objects.
    const again = vs('ClusterIP', '10.96.0.10', 80, ['10.244.0.11', '10.244.0.12']);
    expect(m.update(cip.key, again)).to.deep.equal({ add: [], del: [] });
    expect(sizes()).to.deep.equal([1, 1, 2]);
    // Same count of real servers, one of them another address: not the same members.
    const moved = vs('ClusterIP', '10.96.0.10', 80, ['10.244.0.11', '10.244.0.13']);
    expect(m.update(cip.key, moved)).to.deep.equal({
      add: [{ set: 'KUBE-IPVS-LOOP-BACK', entry: '10.244.0.13,tcp:8080,10.244.0.13' }],
      del: [{ set: 'KUBE-IPVS-LOOP-BACK', entry: '10.244.0.12,tcp:8080,10.244.0.12' }],
    });
    // The NodePort turns Local: its EXTERNAL member goes though its real servers stay.
    m.update(np.key, vs('NodePort', '192.168.1.10', 30080, ['10.244.0.11'], 'Local'));
    expect(sizes()).to.deep.equal([1, 0, 2]);
    expect([...m.keys()].sort()).to.deep.equal([cip.key, np.key].sort());
    m.update(np.key, undefined);
    m.update(cip.key, undefined);
    expect(sizes()).to.deep.equal([0, 0, 0]);
    expect([...m.keys()]).to.deep.equal([]);
  });

  it('wanted() gives back the text of every member it counts, for any address, protocol and port', function () {
    fc.assert(
      fc.property(fc.array(server, { maxLength: 8 }), (specs) => {
        const m = new SetMembership();
        const want = new Map<string, Set<string>>();
        servers(specs).forEach((keyed) => {
          m.update(keyed.key, keyed);
          for (const { set, entry } of membersOf(keyed)) {
            const s = want.get(set) ?? new Set<string>();
            s.add(entry);
            want.set(set, s);
          }
        });
        for (const [set, members] of m.wanted()) {
          expect([...members].sort(), set).to.deep.equal([...(want.get(set) ?? [])].sort());
          expect(m.size(set), set).to.equal(members.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('families() follows the members of each family as they come and go', function () {
    const m = new SetMembership();
    const v4 = vs('ClusterIP', '10.96.0.10', 80, ['10.244.0.11']);
    const v6 = vs('ClusterIP', 'fd00::10', 80, ['fd00:1::11', 'fd00:1::12']);
    m.update(v4.key, v4);
    expect([...m.families()]).to.deep.equal([4]);
    m.update(v6.key, v6);
    expect([...m.families()].sort()).to.deep.equal([4, 6]);
    m.update(v6.key, vs('ClusterIP', 'fd00::10', 80, ['fd00:1::12']));
    expect([...m.families()].sort()).to.deep.equal([4, 6]);
    m.update(v4.key, undefined);
    expect([...m.families()]).to.deep.equal([6]);
    m.update(v6.key, undefined);
    expect(m.families().size).to.equal(0);
  });

  it('wanted() lists all six sets; diffMembers repairs the kernel both ways, only for named sets', function () {
    const m = new SetMembership();
    const cip = vs('ClusterIP', '10.96.0.10', 80, ['10.244.0.11']);
    m.update(cip.key, cip);
    const wanted = m.wanted();
    expect([...wanted.keys()].sort()).to.deep.equal([
      'KUBE-IPVS-6-CLUSTER-IP',
      'KUBE-IPVS-6-EXTERNAL',
      'KUBE-IPVS-6-LOOP-BACK',
      'KUBE-IPVS-CLUSTER-IP',
      'KUBE-IPVS-EXTERNAL',
      'KUBE-IPVS-LOOP-BACK',
    ]);
    const kernel = new Map([
      ['KUBE-IPVS-CLUSTER-IP', new Set(['10.96.0.99,tcp:80'])],
      ['OTHER', new Set(['1.2.3.4'])],
    ]);
    expect(diffMembers(wanted, kernel)).to.deep.equal({
      add: [
        { set: 'KUBE-IPVS-CLUSTER-IP', entry: '10.96.0.10,tcp:80' },
        { set: 'KUBE-IPVS-LOOP-BACK', entry: '10.244.0.11,tcp:8080,10.244.0.11' },
      ],
      del: [{ set: 'KUBE-IPVS-CLUSTER-IP', entry: '10.96.0.99,tcp:80' }],
    });
  });

  it('diff() repairs a set both ways on keys: strangers and members not of our form go, missing ones come', function () {
    const m = new SetMembership();
    const cip = vs('ClusterIP', '10.96.0.10', 80, ['10.244.0.11', '10.244.0.12']);
    m.update(cip.key, cip);
    const loop = m.diff(
      4,
      'loopBack',
      new Set([
        '10.244.0.11,tcp:8080,10.244.0.11', // wanted and there
        '10.244.0.12,tcp:8080,10.244.0.99', // our endpoint, but not a hairpin entry
        '10.244.0.13,udp:53,10.244.0.13', // added by hand
      ]),
    );
    expect(texts(loop.add)).to.deep.equal(['10.244.0.12,tcp:8080,10.244.0.12']);
    expect(texts(loop.del).sort()).to.deep.equal([
      '10.244.0.12,tcp:8080,10.244.0.99',
      '10.244.0.13,udp:53,10.244.0.13',
    ]);
    expect([loop.add.op, loop.add.set, loop.del.op]).to.deep.equal([
      'add',
      'KUBE-IPVS-LOOP-BACK',
      'del',
    ]);
    // A cold start: the kernel's set is empty (or absent), every member is added.
    expect(texts(m.diff(4, 'clusterIP', new Set()).add)).to.deep.equal(['10.96.0.10,tcp:80']);
    expect(texts(m.diff(4, 'loopBack', undefined).add)).to.deep.equal([
      '10.244.0.11,tcp:8080,10.244.0.11',
      '10.244.0.12,tcp:8080,10.244.0.12',
    ]);
    const none = m.diff(6, 'external', undefined);
    expect([none.add.count, none.del.count]).to.deep.equal([0, 0]);
    // A member of a protocol we never write is deleted in its text, which ipset's syntax
    // lacks a name for: it fails as it did when the diff was on text.
    const odd = m.diff(4, 'clusterIP', new Set(['10.96.0.10,tcp:80', '10.96.0.1,47:0']));
    expect(viaElements(odd.del)).to.deep.equal([
      'refused: not an ip,proto:port[,ip] entry of family inet: 10.96.0.1,47:0',
    ]);
  });

  it('diff() on keys sends, byte for byte, what the diff on text sent, for any members wanted and in the kernel', function () {
    const sets = [4, 6].flatMap((f) => SET_ROLES.map((r) => setName(f as 4 | 6, r)));
    const stranger = fc.record({
      set: fc.constantFrom(...sets),
      v6: fc.boolean(),
      a4: fc.ipV4(),
      b4: fc.ipV4(),
      a6: fc.ipV6(),
      b6: fc.ipV6(),
      second: fc.constantFrom('none', 'same', 'other'),
      proto: fc.constantFrom('tcp', 'udp', 'sctp', '47'),
      port: fc.integer({ min: 0, max: 65535 }),
    });
    fc.assert(
      fc.property(
        fc.array(server, { maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
        fc.array(stranger, { maxLength: 6 }),
        (specs, keep, strangers) => {
          const m = new SetMembership();
          for (const v of servers(specs)) m.update(v.key, v);
          // The kernel: some of the wanted members (as the kernel lists them), and others.
          const kernel = new Map<string, Set<string>>();
          const has = (set: string): Set<string> => {
            const s = kernel.get(set) ?? new Set<string>();
            kernel.set(set, s);
            return s;
          };
          let n = 0;
          for (const [set, members] of m.wanted())
            for (const e of members) if (keep[n++ % keep.length]) has(set).add(e);
          for (const x of strangers) {
            const a = canon(x.v6 ? x.a6 : x.a4);
            const b = x.second === 'same' ? a : canon(x.v6 ? x.b6 : x.b4);
            has(x.set).add(`${a},${x.proto}:${x.port}${x.second === 'none' ? '' : `,${b}`}`);
          }
          const text = diffMembers(m.wanted(), kernel);
          for (const op of ['del', 'add'] as const) {
            const byText = text[op].map((c) => viaText(op, c.set, c.entry));
            const byKeys = [4, 6].flatMap((f) =>
              SET_ROLES.flatMap((r) =>
                viaElements(m.diff(f as 4 | 6, r, kernel.get(setName(f as 4 | 6, r)))[op]),
              ),
            );
            expect(byKeys.sort(), op).to.deep.equal(byText.sort());
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

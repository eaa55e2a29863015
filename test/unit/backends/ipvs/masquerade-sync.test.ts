// MasqueradeSync against fake iptables and ipset runners: the legacy fallback, rules
// rewritten only when they differ, and a partial sync sending only the changed members.
import { expect } from 'chai';
import { CommandFailed } from '../../../../bindings/command.js';
import type { IptablesFamily, IptablesFlavour } from '../../../../bindings/iptables/run.js';
import {
  elementEntry,
  formatEntry,
  newElement,
  type IpsetChange,
  type IpsetOps,
  type IpsetResult,
} from '../../../../bindings/ipset/index.js';
import { MasqueradeSync } from '../../../../lib/backends/ipvs/masquerade-sync.js';
import { must } from '../../bindings/must.js';
import {
  virtualServerKey,
  type VirtualServer,
  type VirtualServerKey,
} from '../../../../lib/model/types.js';

function clusterIP(address: string, reals: string[]): VirtualServer {
  return {
    ...nodePort(address, reals),
    key: virtualServerKey('TCP', address, 80),
    port: 80,
    netmask: address.includes(':') ? 128 : 32,
    family: address.includes(':') ? 'IPv6' : 'IPv4',
    owner: { namespace: 'd', name: 'cip', portName: '', servicePort: 80, kind: 'ClusterIP' },
  };
}

function nodePort(address: string, reals: string[]): VirtualServer {
  return {
    key: virtualServerKey('TCP', address, 30080),
    family: 'IPv4',
    protocol: 'TCP',
    address,
    port: 30080,
    scheduler: 'rr',
    schedulerFlags: [],
    persistenceTimeout: 0,
    netmask: 32,
    trafficPolicy: 'Cluster',
    realServers: reals.map((a) => ({ address: a, port: 8080, weight: 1 })),
    owner: { namespace: 'd', name: 'np', portName: '', servicePort: 80, kind: 'NodePort' },
  };
}

function fakeKernel() {
  const calls: string[] = [];
  let nat =
    '*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n';
  const sets = new Map<string, Set<string>>();
  const apply = (cs: readonly IpsetChange[]): IpsetResult[] =>
    cs.map((c) => {
      const set = sets.get(c.set);
      if (!set) return { ok: false as const, error: new Error(`no set ${c.set}`) };
      if (c.op === 'add') set.add(c.entry);
      else set.delete(c.entry);
      return { ok: true as const };
    });
  const ipset: IpsetOps = {
    create: (spec) => {
      calls.push(`create ${spec.name} ${spec.type} ${spec.family} ${spec.maxelem}`);
      if (!sets.has(spec.name)) sets.set(spec.name, new Set());
      return Promise.resolve();
    },
    change: (cs) => {
      calls.push(`change ${cs.map((c) => `${c.op} ${c.set} ${c.entry}`).join('; ')}`);
      return Promise.resolve(apply(cs));
    },
    // Elements given as values are kept in the text the kernel would list them in.
    changeElements: (batches) => {
      const e = newElement();
      const cs = batches.flatMap((b) =>
        Array.from({ length: b.count }, (_, i): IpsetChange => {
          b.read(i, e);
          return { op: b.op, set: b.set, entry: formatEntry(elementEntry(e)) };
        }),
      );
      calls.push(`changeElements ${cs.map((c) => `${c.op} ${c.set} ${c.entry}`).join('; ')}`);
      return Promise.resolve(apply(cs));
    },
    members: (names) =>
      Promise.resolve(
        new Map(names.filter((n) => sets.has(n)).map((n) => [n, new Set(sets.get(n))])),
      ),
    names: () => Promise.resolve([...sets.keys()]),
    counts: (names) => {
      calls.push(`counts ${names.length}`);
      return Promise.resolve(
        new Map(names.filter((n) => sets.has(n)).map((n) => [n, sets.get(n)?.size ?? 0])),
      );
    },
    flush: (name) => {
      sets.get(name)?.clear();
      return Promise.resolve();
    },
    destroy: (name) => {
      sets.delete(name);
      return Promise.resolve();
    },
  };
  const iptables = (family: IptablesFamily, flavour: IptablesFlavour) => ({
    restore: (input: string) => {
      calls.push(`restore ${family} ${flavour}`);
      if (flavour === 'default')
        return Promise.reject(
          new CommandFailed(
            'iptables-restore',
            [],
            'TABLE_ADD failed (Operation not supported): table nat\n',
            4,
            'x',
          ),
        );
      // A rewrite as the legacy tool would leave it: our chains then the jumps.
      const lines = input.split('\n').filter((l) => l.startsWith('-A ') || l.startsWith('-I '));
      const body = lines.map((l) => l.replace(/^-I (\S+) 1 /, '-A $1 ')).join('\n');
      nat = `*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-IPVS-SERVICES - [0:0]\n:KUBE-IPVS-MARK-MASQ - [0:0]\n:KUBE-IPVS-POSTROUTING - [0:0]\n${body}\nCOMMIT\n`;
      return Promise.resolve();
    },
    save: () => Promise.resolve(nat),
  });
  return { calls, sets, ipset, iptables };
}

function table(vss: VirtualServer[]) {
  const m = new Map<VirtualServerKey, VirtualServer>(vss.map((v) => [v.key, v]));
  return { keys: () => m.keys(), get: (k: VirtualServerKey) => m.get(k), m };
}

/** A sync on the fake kernel with the defaults (no masqueradeAll, no clusterCIDR). */
function syncOn(k: ReturnType<typeof fakeKernel>): MasqueradeSync {
  return new MasqueradeSync({
    options: () => ({ masqueradeAll: false, clusterCIDR: [] }),
    ipset: k.ipset,
    iptables: k.iptables,
    loadModules: () => Promise.resolve(),
  });
}

describe('backends/ipvs MasqueradeSync', function () {
  it('falls back to iptables-legacy, writes rules once, and sends only changed members on a partial sync', async function () {
    const k = fakeKernel();
    const sync = syncOn(k);
    const a = nodePort('192.168.1.10', ['10.244.0.11']);
    const t = table([a]);
    await sync.full(t);
    expect(k.calls.filter((c) => c.startsWith('restore'))).to.deep.equal([
      'restore 4 default',
      'restore 4 legacy',
    ]);
    expect([...(k.sets.get('KUBE-IPVS-EXTERNAL') ?? [])]).to.deep.equal(['192.168.1.10,tcp:30080']);
    k.calls.length = 0;
    await sync.full(t);
    // Rules unchanged, members unchanged: the idempotent set creation, then a comparison
    // of the sets' sizes instead of reading every member back.
    expect(k.calls).to.deep.equal([
      'create KUBE-IPVS-EXTERNAL hash:ip,port inet 1048576',
      'create KUBE-IPVS-CLUSTER-IP hash:ip,port inet 1048576',
      'create KUBE-IPVS-LOOP-BACK hash:ip,port,ip inet 1048576',
      'counts 3',
    ]);
    k.calls.length = 0;
    const b = nodePort('192.168.1.11', ['10.244.0.11']);
    t.m.set(b.key, b);
    await sync.partial(t, new Set([b.key]));
    await sync.settled();
    expect(k.calls).to.deep.equal(['change add KUBE-IPVS-EXTERNAL 192.168.1.11,tcp:30080']);
    // Drift: a member removed by hand comes back on the next full sync.
    k.sets.get('KUBE-IPVS-EXTERNAL')?.delete('192.168.1.10,tcp:30080');
    await sync.full(t);
    expect([...(k.sets.get('KUBE-IPVS-EXTERNAL') ?? [])].sort()).to.deep.equal([
      '192.168.1.10,tcp:30080',
      '192.168.1.11,tcp:30080',
    ]);
    expect(
      (await k.ipset.members(['KUBE-IPVS-LOOP-BACK'])).get('KUBE-IPVS-LOOP-BACK')?.size,
    ).to.equal(1);
  });

  it('a full sync makes every set what the table wants: members added by hand, or not of our form, go; removed ones come back', async function () {
    const k = fakeKernel();
    const sync = syncOn(k);
    const t = table([
      clusterIP('10.96.0.10', ['10.244.0.11', '10.244.0.12']),
      clusterIP('fd00::10', ['fd00:1::11']),
      nodePort('192.168.1.10', ['10.244.0.11']),
    ]);
    const want = {
      'KUBE-IPVS-EXTERNAL': ['192.168.1.10,tcp:30080'],
      'KUBE-IPVS-CLUSTER-IP': ['10.96.0.10,tcp:80'],
      'KUBE-IPVS-LOOP-BACK': [
        '10.244.0.11,tcp:8080,10.244.0.11',
        '10.244.0.12,tcp:8080,10.244.0.12',
      ],
      'KUBE-IPVS-6-EXTERNAL': [],
      'KUBE-IPVS-6-CLUSTER-IP': ['fd00::10,tcp:80'],
      'KUBE-IPVS-6-LOOP-BACK': ['fd00:1::11,tcp:8080,fd00:1::11'],
    };
    const contents = () => Object.fromEntries([...k.sets].map(([n, s]) => [n, [...s].sort()]));
    await sync.full(t);
    expect(contents()).to.deep.equal(want);
    const loop = must(k.sets.get('KUBE-IPVS-LOOP-BACK'));
    loop.add('10.244.0.99,tcp:8080,10.244.0.99');
    loop.add('10.244.0.11,tcp:8080,10.244.0.12');
    loop.add('10.244.0.11,udp:8080,10.244.0.11');
    loop.delete('10.244.0.12,tcp:8080,10.244.0.12');
    must(k.sets.get('KUBE-IPVS-6-LOOP-BACK')).add('fd00:1::99,tcp:8080,fd00:1::99');
    must(k.sets.get('KUBE-IPVS-CLUSTER-IP')).clear();
    k.calls.length = 0;
    await sync.full(t);
    expect(contents()).to.deep.equal(want);
    // Deletions first, then additions.
    const sent = k.calls.filter((c) => c.startsWith('change')).join('; ');
    expect(sent.lastIndexOf(' del ')).to.be.below(sent.indexOf(' add '));
  });

  it('a full sync reports the failed changes: how many of how many, and the first', async function () {
    const k = fakeKernel();
    const sync = new MasqueradeSync({
      options: () => ({ masqueradeAll: false, clusterCIDR: [] }),
      // The CLUSTER-IP set is never there.
      ipset: {
        ...k.ipset,
        create: (spec) =>
          spec.name === 'KUBE-IPVS-CLUSTER-IP' ? Promise.resolve() : k.ipset.create(spec),
      },
      iptables: k.iptables,
      loadModules: () => Promise.resolve(),
    });
    const t = table([clusterIP('10.96.0.10', ['10.244.0.11']), clusterIP('10.96.0.11', [])]);
    let error: unknown;
    await sync.full(t).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.equal(
      '2 of 3 ipset changes failed, the first: no set KUBE-IPVS-CLUSTER-IP',
    );
    expect([...must(k.sets.get('KUBE-IPVS-LOOP-BACK'))]).to.deep.equal([
      '10.244.0.11,tcp:8080,10.244.0.11',
    ]);
  });
});

// reconcile/observed: what a partial sync remembers of the kernel after each op.
import { expect } from 'chai';
import { ipvsDestination, ipvsService } from '../../fixtures/ipvs-objects.js';
import type { IpvsEntry } from '../../../lib/backends/ipvs/convert.js';
import type { VirtualServerKey } from '../../../lib/model/types.js';
import { recordOp, reuseRemembered } from '../../../lib/reconcile/observed.js';

const svc = ipvsService();
const d = (address: string, weight = 1) => ipvsDestination(address, { weight });
const KEY = 'TCP/10.96.0.10:80' as VirtualServerKey;

describe('reconcile/observed', () => {
  it('records real servers in the list it has (a cold sync of a big Service stays linear); the same op twice leaves one', () => {
    const entries = new Map<VirtualServerKey, IpvsEntry>();
    recordOp(entries, new Set(), { op: 'addService', service: svc });
    const list = entries.get(KEY)?.destinations;
    for (let i = 0; i < 5000; i++)
      recordOp(entries, new Set(), {
        op: 'addDestination',
        service: svc,
        destination: d(`10.1.${i >> 8}.${i & 0xff}`),
      });
    recordOp(entries, new Set(), {
      op: 'addDestination',
      service: svc,
      destination: d('10.1.0.7', 3),
    });
    expect(entries.get(KEY)?.destinations).to.equal(list);
    expect(list).to.have.length(5000);
    expect(list?.filter((x) => x.address === '10.1.0.7').map((x) => x.weight)).to.deep.equal([3]);
    // A service added again (it was gone from the kernel) starts with no real servers.
    recordOp(entries, new Set(), { op: 'addService', service: svc });
    expect(entries.get(KEY)?.destinations).to.deep.equal([]);
  });

  it('follows add, update and delete of services, real servers and addresses', () => {
    const entries = new Map<VirtualServerKey, IpvsEntry>();
    const addresses = new Set<string>();
    recordOp(entries, addresses, { op: 'bindAddress', address: '10.96.0.10' });
    recordOp(entries, addresses, { op: 'addService', service: svc });
    recordOp(entries, addresses, {
      op: 'addDestination',
      service: svc,
      destination: d('10.1.0.1'),
    });
    recordOp(entries, addresses, {
      op: 'addDestination',
      service: svc,
      destination: d('10.1.0.2'),
    });
    expect(entries.get(KEY)?.destinations.map((x) => x.address)).to.deep.equal([
      '10.1.0.1',
      '10.1.0.2',
    ]);
    recordOp(entries, addresses, { op: 'updateService', service: { ...svc, scheduler: 'sh' } });
    expect(entries.get(KEY)?.service.scheduler).to.equal('sh');
    expect(entries.get(KEY)?.destinations).to.have.length(2);
    recordOp(entries, addresses, {
      op: 'deleteDestination',
      service: svc,
      destination: d('10.1.0.1'),
    });
    expect(entries.get(KEY)?.destinations.map((x) => x.address)).to.deep.equal(['10.1.0.2']);
    recordOp(entries, addresses, { op: 'deleteService', service: svc });
    recordOp(entries, addresses, { op: 'unbindAddress', address: '10.96.0.10' });
    expect(entries.size).to.equal(0);
    expect(addresses.size).to.equal(0);
  });

  it("keeps an op's destination that has connection counts (as toIpvsDestinations gives) itself, and copies one that has none", () => {
    const entries = new Map<VirtualServerKey, IpvsEntry>();
    recordOp(entries, new Set(), { op: 'addService', service: svc });
    const counted = { ...d('10.1.0.1'), activeConns: 0, inactiveConns: 0 };
    const bare = d('10.1.0.2');
    for (const destination of [counted, bare])
      recordOp(entries, new Set(), { op: 'addDestination', service: svc, destination });
    const [first, second] = entries.get(KEY)?.destinations ?? [];
    expect(first).to.equal(counted);
    expect(second).to.not.equal(bare);
    expect(second).to.deep.equal({ ...bare, activeConns: 0, inactiveConns: 0 });
    // SET_DEST of a counted destination takes the remembered counts into it.
    counted.activeConns = 3;
    const next = { ...d('10.1.0.1', 0), activeConns: 0, inactiveConns: 0 };
    recordOp(entries, new Set(), { op: 'updateDestination', service: svc, destination: next });
    expect(entries.get(KEY)?.destinations[0]).to.equal(next);
    expect(next).to.include({ weight: 0, activeConns: 3, inactiveConns: 0 });
  });

  it("SET_DEST keeps a real server's connection counts (the kernel does)", () => {
    const entries = new Map<VirtualServerKey, IpvsEntry>([
      [
        KEY,
        { service: svc, destinations: [{ ...d('10.1.0.1'), activeConns: 3, inactiveConns: 1 }] },
      ],
    ]);
    recordOp(entries, new Set(), {
      op: 'updateDestination',
      service: svc,
      destination: d('10.1.0.1', 0),
    });
    expect(entries.get(KEY)?.destinations[0]).to.include({
      weight: 0,
      activeConns: 3,
      inactiveConns: 1,
    });
  });

  it('a resync keeps the remembered entry when the dump shows it unchanged, in any order, with the fresh connection counts', () => {
    const remembered: IpvsEntry = { service: svc, destinations: [d('10.1.0.1'), d('10.1.0.2')] };
    const dumped = (ds: ReturnType<typeof d>[], service = svc): IpvsEntry => ({
      service: { ...service },
      destinations: ds,
    });
    const busy = { ...d('10.1.0.2'), activeConns: 3, inactiveConns: 1 };
    // The kernel lists the newest real server first.
    expect(reuseRemembered(remembered, dumped([busy, d('10.1.0.1')]))).to.equal(remembered);
    expect(remembered.destinations[1]).to.include({ activeConns: 3, inactiveConns: 1 });
    expect(reuseRemembered(remembered, dumped([d('10.1.0.1'), d('10.1.0.2')]))).to.equal(
      remembered,
    );
    expect(remembered.destinations[1]).to.include({ activeConns: 0, inactiveConns: 0 });
    // Neither order: matched by address and port.
    const three: IpvsEntry = {
      service: svc,
      destinations: [d('10.1.0.1'), d('10.1.0.2'), d('10.1.0.3')],
    };
    expect(reuseRemembered(three, dumped([d('10.1.0.2'), d('10.1.0.1'), d('10.1.0.3')]))).to.equal(
      three,
    );
    // Anything else that differs gives the dump as it is.
    for (const fresh of [
      dumped([d('10.1.0.1'), d('10.1.0.2', 0)]),
      dumped([d('10.1.0.1'), d('10.1.0.3')]),
      dumped([d('10.1.0.1')]),
      dumped([d('10.1.0.1'), d('10.1.0.2')], { ...svc, scheduler: 'sh' }),
    ])
      expect(reuseRemembered(remembered, fresh)).to.equal(fresh);
    const fresh = dumped([d('10.1.0.1'), d('10.1.0.2')]);
    expect(reuseRemembered(undefined, fresh)).to.equal(fresh);
  });
});

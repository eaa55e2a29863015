// reconcile/drain: when a draining real server may go, and who remembers since when.
import { expect } from 'chai';
import { DrainTracker, drainVerdict } from '../../../lib/reconcile/drain.js';

describe('reconcile/drain (R1.4, G-18)', () => {
  const clock = (now: number) => ({ now, timeoutMs: 1000, since: () => undefined });

  it('keeps a real server with connections, deletes one without', () => {
    expect(drainVerdict({ activeConns: 1, inactiveConns: 0 }, undefined, clock(0))).to.equal(
      'keep',
    );
    expect(drainVerdict({ activeConns: 0, inactiveConns: 2 }, undefined, clock(0))).to.equal(
      'keep',
    );
    expect(drainVerdict({ activeConns: 0, inactiveConns: 0 }, undefined, clock(0))).to.equal(
      'delete',
    );
  });

  it('deletes a busy one once the timeout has passed since the drain began', () => {
    const busy = { activeConns: 5, inactiveConns: 0 };
    expect(drainVerdict(busy, 100, clock(1099))).to.equal('keep');
    expect(drainVerdict(busy, 100, clock(1100))).to.equal('delete');
  });

  it('the tracker remembers the first time a real server was seen draining, per virtual server', () => {
    const t = new DrainTracker();
    t.update('TCP/10.0.0.1:80', ['TCP/10.0.0.1:80>10.1.0.1:80'], 10);
    t.update('TCP/10.0.0.1:80', ['TCP/10.0.0.1:80>10.1.0.1:80'], 20);
    t.update('TCP/10.0.0.1:8080', ['TCP/10.0.0.1:8080>10.1.0.1:80'], 30);
    expect(t.clock(50, 1000).since('TCP/10.0.0.1:80>10.1.0.1:80')).to.equal(10);
    expect(t.virtualServers()).to.deep.equal(new Set(['TCP/10.0.0.1:80', 'TCP/10.0.0.1:8080']));
    // A virtual server whose port is a prefix of another's does not clear the other's.
    t.update('TCP/10.0.0.1:80', [], 60);
    expect(t.size).to.equal(1);
    expect(t.clock(70, 1000).since('TCP/10.0.0.1:8080>10.1.0.1:80')).to.equal(30);
  });
});

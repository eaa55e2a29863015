// events/limiter: client-go's per-object spam filter (burst 25, one token per 5 minutes).
import { expect } from 'chai';
import { DEFAULT_LIMITER, TokenBuckets } from '../../../lib/events/limiter.js';

describe('events/limiter (token bucket per object)', function () {
  it("client-go's defaults: burst 25, one token back every 5 minutes", function () {
    expect(DEFAULT_LIMITER).to.deep.equal({ burst: 25, refillMs: 300_000, maxKeys: 4096 });
  });

  it('lets a burst of 25 through, refuses the 26th, and gives one back per 5 minutes', function () {
    const b = new TokenBuckets();
    const t0 = 1_000_000;
    for (let i = 0; i < 25; i++) expect(b.take('svc', t0), `event ${i + 1}`).to.equal(true);
    expect(b.take('svc', t0)).to.equal(false);
    expect(b.take('svc', t0 + 299_999)).to.equal(false);
    expect(b.take('svc', t0 + 300_000)).to.equal(true);
    expect(b.take('svc', t0 + 300_001)).to.equal(false);
    // Ten minutes later: two tokens.
    expect(b.take('svc', t0 + 900_001)).to.equal(true);
    expect(b.take('svc', t0 + 900_001)).to.equal(true);
    expect(b.take('svc', t0 + 900_001)).to.equal(false);
  });

  it('keeps one bucket per key: a flooding object does not silence another', function () {
    const b = new TokenBuckets({ burst: 2, refillMs: 1000, maxKeys: 10 });
    expect([b.take('a', 0), b.take('a', 0), b.take('a', 0)]).to.deep.equal([true, true, false]);
    expect(b.take('b', 0)).to.equal(true);
  });

  it('refills no further than the burst, however long the pause', function () {
    const b = new TokenBuckets({ burst: 3, refillMs: 1000, maxKeys: 10 });
    for (let i = 0; i < 3; i++) b.take('a', 0);
    const after = [0, 1, 2, 3].map(() => b.take('a', 1_000_000_000));
    expect(after).to.deep.equal([true, true, true, false]);
  });

  it('forgets the least recently used key beyond maxKeys (a forgotten key starts full)', function () {
    const b = new TokenBuckets({ burst: 1, refillMs: 1_000_000, maxKeys: 2 });
    expect(b.take('a', 0)).to.equal(true);
    expect(b.take('b', 0)).to.equal(true);
    expect(b.take('a', 0)).to.equal(false); // 'a' is now the most recent
    expect(b.take('c', 0)).to.equal(true); // drops 'b'
    expect(b.size).to.equal(2);
    expect(b.take('b', 0)).to.equal(true);
    expect(b.take('a', 0)).to.equal(true); // 'a' was dropped by 'b'
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../../lib/config/index.js';

describe('config/duration', () => {
  it('parses Go duration strings to milliseconds', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['0s', 0],
      ['30s', 30_000],
      ['1m', 60_000],
      ['1m30s', 90_000],
      ['500ms', 500],
      ['1.5h', 5_400_000],
      ['2h45m', 9_900_000],
      ['100us', 0.1],
      ['1000000ns', 1],
    ];
    for (const [s, ms] of cases) expect(parseDuration(s), s).to.be.closeTo(ms, 1e-9);
  });

  it('refuses what Go refuses, and negatives', () => {
    for (const s of ['', '30', 's', '1d', '-1s', '1 s', '1m 30s', '1S', '.s', '+1s']) {
      expect(parseDuration(s), s).to.equal(undefined);
    }
  });

  it('formatDuration round-trips whole milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).to.be.closeTo(ms, 1e-6);
      }),
    );
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import {
  addToGroup,
  firstKey,
  keysOf,
  removeFromGroup,
  withKey,
  withoutKey,
  type SortedKeys,
} from '../../../lib/collections/sorted-keys.js';

describe('sorted keys', () => {
  it('holds one key as the key itself and several as a sorted array', () => {
    const one = withKey(undefined, 'b');
    expect(one).to.equal('b');
    const two = withKey(one, 'a');
    expect(two).to.deep.equal(['a', 'b']);
    expect(firstKey(two)).to.equal('a');
    expect(withoutKey(two, 'a')).to.equal('b');
    expect(withoutKey('b', 'b')).to.equal(undefined);
  });

  it('returns the same value when nothing changes', () => {
    const two = withKey('a', 'b');
    expect(withKey(two, 'a')).to.equal(two);
    expect(withoutKey(two, 'c')).to.equal(two);
    expect(withoutKey(undefined, 'c')).to.equal(undefined);
  });

  it('behaves as a sorted Set under any sequence of adds and removes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.constantFrom('a', 'b', 'c', 'd', 'ab', ''))),
        (steps) => {
          let keys: SortedKeys | undefined;
          const model = new Set<string>();
          for (const [add, key] of steps) {
            keys = add ? withKey(keys, key) : withoutKey(keys, key);
            if (add) model.add(key);
            else model.delete(key);
            const want = [...model].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
            expect(keysOf(keys)).to.deep.equal(want);
            expect(firstKey(keys)).to.equal(want[0]);
            // One key is never wrapped in an array; none is undefined.
            if (want.length === 1) expect(keys).to.equal(want[0]);
            if (want.length === 0) expect(keys).to.equal(undefined);
          }
        },
      ),
    );
  });

  it('keeps a map of groups: a group is added to, and leaves the map once empty', () => {
    const groups = new Map<string, SortedKeys>();
    addToGroup(groups, 'g', 'b');
    addToGroup(groups, 'g', 'a');
    expect(groups.get('g')).to.deep.equal(['a', 'b']);
    removeFromGroup(groups, 'g', 'b');
    expect(groups.get('g')).to.equal('a');
    removeFromGroup(groups, 'g', 'a');
    expect(groups.has('g')).to.equal(false);
    removeFromGroup(groups, 'h', 'a');
    expect(groups.has('h')).to.equal(false);
  });
});

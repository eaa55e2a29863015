import { expect } from 'chai';
import fc from 'fast-check';
import {
  AttrMap,
  type AttrOut,
  be16,
  bytes,
  decodeAttrs,
  encodeAttrs,
  nested,
  str,
  u16,
  u32,
  u64,
  u8,
} from '../../../../bindings/netlink/attributes.js';
import { NetlinkDecodeError } from '../../../../bindings/netlink/errors.js';
import { must } from '../must.js';

describe('netlink attributes', () => {
  it('encodes header, payload and zeroed padding to 4 bytes', () => {
    const b = encodeAttrs([u8(1, 0xab), str(2, 'rr')]);
    expect([...b]).to.deep.equal([5, 0, 1, 0, 0xab, 0, 0, 0, 7, 0, 2, 0, 0x72, 0x72, 0, 0]);
  });

  it('round-trips integers, strings and nested attributes', () => {
    const b = encodeAttrs([
      u16(1, 10),
      be16(4, 8080),
      u32(5, 0xdeadbeef),
      u64(6, 2n ** 63n + 5n),
      nested(7, [str(6, 'wlc'), u32(8, 300)]),
    ]);
    const a = AttrMap.parse(b);
    expect(a.u16(1)).to.equal(10);
    expect(a.be16(4)).to.equal(8080);
    expect(a.u32(5)).to.equal(0xdeadbeef);
    expect(a.u64(6)).to.equal(2n ** 63n + 5n);
    const n = must(a.nested(7));
    expect(n.str(6)).to.equal('wlc');
    expect(n.u32(8)).to.equal(300);
  });

  it('property: u64 round-trips every value, across the 32-bit boundary', () => {
    const values = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.bigInt({ min: 0n, max: 2n ** 33n }),
      fc.constantFrom(0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 64n - 1n),
    );
    fc.assert(
      fc.property(values, (v) => {
        expect(AttrMap.parse(encodeAttrs([u64(3, v)])).u64(3)).to.equal(v);
      }),
    );
  });

  it('rejects an attribute whose length runs past the buffer', () => {
    const b = encodeAttrs([u32(1, 1)]);
    b.writeUInt16LE(40, 0);
    expect(() => decodeAttrs(b)).to.throw(NetlinkDecodeError);
  });

  it('rejects a too-short integer payload with a typed error', () => {
    const a = AttrMap.parse(encodeAttrs([u8(1, 1)]));
    expect(() => a.u32(1)).to.throw(NetlinkDecodeError);
  });

  it('property: decode(encode(attrs)) gives back every payload', () => {
    const attr = fc.record({
      type: fc.integer({ min: 0, max: 0x3fff }),
      value: fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)),
    });
    fc.assert(
      fc.property(fc.array(attr, { maxLength: 20 }), (attrs) => {
        const back = decodeAttrs(encodeAttrs(attrs.map((a): AttrOut => bytes(a.type, a.value))));
        expect(back.map((x) => [x.type, x.data.toString('hex')])).to.deep.equal(
          attrs.map((x) => [x.type, x.value.toString('hex')]),
        );
      }),
    );
  });

  it('property: AttrMap gives each type the payload of its last attribute, inside a larger buffer too', () => {
    const attr = fc.record({
      type: fc.integer({ min: 0, max: 40 }),
      value: fc.uint8Array({ maxLength: 24 }).map((u) => Buffer.from(u)),
    });
    fc.assert(
      fc.property(fc.array(attr, { maxLength: 20 }), fc.nat(8), (attrs, pad) => {
        const body = encodeAttrs(attrs.map((a): AttrOut => bytes(a.type, a.value)));
        const buf = Buffer.concat([Buffer.alloc(pad, 0xff), body, Buffer.alloc(pad, 0xff)]);
        const m = AttrMap.parse(buf, pad, pad + body.length);
        const last = new Map(attrs.map((a) => [a.type, a.value.toString('hex')]));
        for (let t = 0; t <= 41; t++) {
          expect(m.has(t)).to.equal(last.has(t));
          expect(m.get(t)?.toString('hex')).to.equal(last.get(t));
        }
      }),
    );
  });

  it('property: parseNested(type) reads what parse().nested(type) reads, and fails where it fails', () => {
    const outcome = (f: () => AttrMap | undefined): string => {
      try {
        const m = f();
        return m === undefined ? 'none' : [0, 1, 2, 3].map((t) => m.get(t)?.toString('hex')).join();
      } catch (e) {
        return e instanceof NetlinkDecodeError ? `error ${e.message}` : `other ${String(e)}`;
      }
    };
    const inner = fc.array(fc.record({ type: fc.nat(3), value: fc.uint8Array({ maxLength: 6 }) }), {
      maxLength: 4,
    });
    const outer = fc.array(fc.record({ type: fc.nat(3), inner }), { maxLength: 5 });
    const runs = outer.map((os) =>
      encodeAttrs(
        os.map((o) =>
          nested(
            o.type,
            o.inner.map((i) => bytes(i.type, Buffer.from(i.value))),
          ),
        ),
      ),
    );
    const garbage = fc.uint8Array({ maxLength: 60 }).map((u) => Buffer.from(u));
    fc.assert(
      fc.property(fc.oneof(runs, garbage), fc.nat(3), (buf, type) => {
        expect(outcome(() => AttrMap.parseNested(buf, type))).to.equal(
          outcome(() => AttrMap.parse(buf).nested(type)),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('property: random bytes decode or raise NetlinkDecodeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (u) => {
        try {
          for (const a of decodeAttrs(Buffer.from(u))) AttrMap.parse(a.data);
        } catch (e) {
          expect(e).to.be.instanceOf(NetlinkDecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import {
  type AttrOut,
  be16,
  bytes,
  encodeAttrs,
  nested,
  str,
  u16,
  u32,
  u8,
} from '../../../../bindings/netlink/attributes.js';
import { type AttrWriter, encodeWith } from '../../../../bindings/netlink/writer.js';

type Op =
  | { k: 'u8' | 'u16' | 'be16' | 'u32'; type: number; v: number }
  | { k: 'str'; type: number; v: string }
  | { k: 'bytes'; type: number; v: Uint8Array }
  | { k: 'nest'; type: number; v: Op[] };

function toAttrs(ops: Op[]): AttrOut[] {
  return ops.map((o) => {
    switch (o.k) {
      case 'u8':
        return u8(o.type, o.v & 0xff);
      case 'u16':
        return u16(o.type, o.v & 0xffff);
      case 'be16':
        return be16(o.type, o.v & 0xffff);
      case 'u32':
        return u32(o.type, o.v);
      case 'str':
        return str(o.type, o.v);
      case 'bytes':
        return bytes(o.type, Buffer.from(o.v));
      case 'nest':
        return nested(o.type, toAttrs(o.v));
    }
  });
}

function write(w: AttrWriter, ops: Op[]): void {
  for (const o of ops) {
    switch (o.k) {
      case 'u8':
        w.u8(o.type, o.v & 0xff);
        break;
      case 'u16':
        w.u16(o.type, o.v & 0xffff);
        break;
      case 'be16':
        w.be16(o.type, o.v & 0xffff);
        break;
      case 'u32':
        w.u32(o.type, o.v);
        break;
      case 'str':
        w.str(o.type, o.v);
        break;
      case 'bytes':
        w.bytes(o.type, Buffer.from(o.v));
        break;
      case 'nest': {
        const at = w.begin(o.type);
        write(w, o.v);
        w.end(at);
        break;
      }
    }
  }
}

const type = fc.integer({ min: 0, max: 0x3fff });
const leaf: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constantFrom('u8', 'u16', 'be16', 'u32'),
    type,
    v: fc.nat({ max: 0xffffffff }),
  }),
  fc.record({ k: fc.constant('str'), type, v: fc.string({ maxLength: 20 }) }),
  fc.record({ k: fc.constant('bytes'), type, v: fc.uint8Array({ maxLength: 20 }) }),
) as fc.Arbitrary<Op>;
const op: fc.Arbitrary<Op> = fc.oneof(
  leaf,
  fc.record({ k: fc.constant('nest' as const), type, v: fc.array(leaf, { maxLength: 5 }) }),
);

describe('netlink in-place attribute writer', () => {
  it('property: writes exactly the bytes of the attribute encoder, padding zeroed', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        expect(encodeWith((w) => write(w, ops)).toString('hex')).to.equal(
          encodeAttrs(toAttrs(ops)).toString('hex'),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('validates a field while counting, before anything is written', () => {
    expect(() =>
      encodeWith((w) =>
        w.field(
          1,
          4,
          () => {
            throw new TypeError('bad address');
          },
          'x',
        ),
      ),
    ).to.throw(TypeError, 'bad address');
  });
});

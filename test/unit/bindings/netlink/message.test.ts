import { expect } from 'chai';
import fc from 'fast-check';
import { NLMSG_ERROR } from '../../../../bindings/netlink/constants.js';
import { NetlinkDecodeError } from '../../../../bindings/netlink/errors.js';
import {
  decodeErrorReply,
  decodeMessages,
  encodeMessages,
} from '../../../../bindings/netlink/message.js';
import { errorReply } from './fake-socket.js';
import { must } from '../must.js';

describe('netlink message framing', () => {
  it('frames several messages per datagram with 4-byte alignment', () => {
    const d = encodeMessages([
      { type: 20, flags: 1, seq: 7, pid: 9, payload: Buffer.from([1, 2, 3]) },
      { type: 21, flags: 5, seq: 8, pid: 9, payload: Buffer.from([4]) },
    ]);
    expect(d.length).to.equal(20 + 20);
    expect(d.readUInt32LE(0)).to.equal(19);
    const ms = decodeMessages(d);
    expect(ms.map((m) => [m.type, m.flags, m.seq, m.pid, [...m.payload]])).to.deep.equal([
      [20, 1, 7, 9, [1, 2, 3]],
      [21, 5, 8, 9, [4]],
    ]);
  });

  it('decodes an error reply with extended-ack text and offset (capped)', () => {
    const [m] = decodeMessages(errorReply(5, 1, 17, { msg: 'Service already exists', offset: 24 }));
    const e = decodeErrorReply(must(m));
    expect(e).to.deep.equal({ errno: 17, extAck: 'Service already exists', extAckOffset: 24 });
  });

  it('decodes an ACK as errno 0', () => {
    const [m] = decodeMessages(errorReply(5, 1, 0));
    expect(decodeErrorReply(must(m)).errno).to.equal(0);
  });

  it('rejects a message length past the datagram', () => {
    const d = encodeMessages([{ type: 1, flags: 0, seq: 1, pid: 1, payload: Buffer.alloc(8) }]);
    d.writeUInt32LE(64, 0);
    expect(() => decodeMessages(d)).to.throw(NetlinkDecodeError);
  });

  it('property: random datagrams decode or raise NetlinkDecodeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (u) => {
        try {
          for (const m of decodeMessages(Buffer.from(u))) {
            if (m.type === NLMSG_ERROR) decodeErrorReply(m);
          }
        } catch (e) {
          expect(e).to.be.instanceOf(NetlinkDecodeError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('property: decode(encode(messages)) is the identity', () => {
    const msg = fc.record({
      type: fc.integer({ min: 0, max: 0xffff }),
      flags: fc.integer({ min: 0, max: 0xffff }),
      seq: fc.nat({ max: 0xffffffff }),
      pid: fc.nat({ max: 0xffffffff }),
      payload: fc.uint8Array({ maxLength: 50 }).map((u) => Buffer.from(u)),
    });
    fc.assert(
      fc.property(fc.array(msg, { maxLength: 10 }), (ms) => {
        const back = decodeMessages(encodeMessages(ms));
        expect(back.map((m) => ({ ...m, payload: m.payload.toString('hex') }))).to.deep.equal(
          ms.map((m) => ({ ...m, payload: m.payload.toString('hex') })),
        );
      }),
    );
  });
});

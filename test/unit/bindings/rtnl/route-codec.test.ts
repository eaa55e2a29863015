// bindings/rtnl route codec: the local host route the IPVS backend adds for a virtual
// address (struct rtmsg as linux/rtnetlink.h lays it out), and which dumped routes are
// taken as local. The kernel's own reading of these bytes is checked by the host
// integration test (test/integration/bindings/rtnl-routes.test.ts).
import { expect } from 'chai';
import { decodeLocalRoute, localRouteMsg } from '../../../../bindings/rtnl/codec.js';

describe('bindings/rtnl route codec', () => {
  it('R1.5: a local /32 route in the local table, protocol static, scope host, through the interface', () => {
    const b = localRouteMsg(7, '10.96.0.10');
    expect([...b.subarray(0, 12)]).to.deep.equal([2, 32, 0, 0, 255, 4, 254, 2, 0, 0, 0, 0]);
    // RTA_DST (1) with the address, then RTA_OIF (4) with the index.
    expect(b.subarray(12).toString('hex')).to.equal('080001000a60000a' + '0800040007000000');
  });

  it('an IPv6 one is /128 with the 16-byte address', () => {
    const b = localRouteMsg(3, 'fd00::a');
    expect([b[0], b[1]]).to.deep.equal([10, 128]);
    expect(b.readUInt16LE(12)).to.equal(4 + 16);
    expect(decodeLocalRoute(b)).to.deep.equal({
      family: 10,
      address: 'fd00::a',
      prefixLength: 128,
      table: 255,
      protocol: 4,
      index: 3,
    });
  });

  it('takes only routes of type local with a destination', () => {
    const unicast = localRouteMsg(7, '10.96.0.10');
    unicast.writeUInt8(1, 7); // RTN_UNICAST
    expect(decodeLocalRoute(unicast)).to.equal(undefined);
    const noDst = Buffer.from(localRouteMsg(7, '10.96.0.10').subarray(0, 12));
    expect(decodeLocalRoute(noDst)).to.equal(undefined);
    expect(() => decodeLocalRoute(Buffer.alloc(8))).to.throw(/rtmsg of 8 bytes/);
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import { formatIPv4, formatIPv6, parseIPv4 } from '../../../../bindings/ipvs/address.js';
import {
  decodeDestination,
  decodeService,
  writeDestination,
  writeService,
  writeServiceId,
} from '../../../../bindings/ipvs/codec.js';
import * as C from '../../../../bindings/ipvs/constants.js';
import {
  AF_INET,
  AF_INET6,
  type IpvsDestination,
  type IpvsService,
} from '../../../../bindings/ipvs/types.js';
import { AttrMap } from '../../../../bindings/netlink/attributes.js';
import { encodeWith } from '../../../../bindings/netlink/writer.js';
import { NetlinkDecodeError } from '../../../../bindings/netlink/errors.js';
import { must } from '../must.js';

const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((u) => formatIPv4(Buffer.from(u)));
const v6 = fc
  .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
    minLength: 8,
    maxLength: 8,
  })
  .map((ws) => {
    const b = Buffer.alloc(16);
    ws.forEach((w, i) => b.writeUInt16BE(w, i * 2));
    return formatIPv6(b);
  });
const name = fc.stringMatching(/^[a-z0-9_-]{0,15}$/);
const u32 = fc.nat({ max: 0xffffffff });

const service: fc.Arbitrary<IpvsService> = fc
  .record({
    v6: fc.boolean(),
    a4: v4,
    a6: v6,
    fwmark: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff })),
    protocol: fc.constantFrom(6 as const, 17 as const, 132 as const),
    port: fc.integer({ min: 0, max: 65535 }),
    scheduler: name.filter((s) => s.length > 0),
    flags: u32,
    timeout: u32,
    netmask: u32,
    peName: name,
  })
  .map((r) => ({
    family: r.v6 ? AF_INET6 : AF_INET,
    protocol: r.fwmark ? 0 : r.protocol,
    address: r.fwmark ? '' : r.v6 ? r.a6 : r.a4,
    port: r.fwmark ? 0 : r.port,
    fwmark: r.fwmark,
    scheduler: r.scheduler,
    flags: (r.flags & ~C.IP_VS_SVC_F_HASHED) >>> 0,
    timeout: r.timeout,
    netmask: r.netmask,
    peName: r.peName,
  }));

const destination: fc.Arbitrary<IpvsDestination> = fc
  .record({
    v6: fc.boolean(),
    a4: v4,
    a6: v6,
    port: fc.integer({ min: 0, max: 65535 }),
    forward: fc.integer({ min: 0, max: 4 }),
    weight: u32,
    upper: u32,
    lower: u32,
    tunType: fc.integer({ min: 0, max: 2 }),
    tunPort: fc.integer({ min: 0, max: 65535 }),
    tunFlags: fc.integer({ min: 0, max: 3 }),
  })
  .map((r) => {
    const tunnel = r.forward === C.IP_VS_CONN_F_TUNNEL;
    return {
      family: r.v6 ? AF_INET6 : AF_INET,
      address: r.v6 ? r.a6 : r.a4,
      port: r.port,
      forward: r.forward,
      weight: r.weight,
      upperThreshold: r.upper,
      lowerThreshold: r.lower,
      tunType: tunnel ? r.tunType : 0,
      tunPort: tunnel ? r.tunPort : 0,
      tunFlags: tunnel ? r.tunFlags : 0,
    };
  });

describe('IPVS codec', () => {
  it('property: decodeService(encode(service)) == service', () => {
    fc.assert(
      fc.property(service, (s) => {
        expect(decodeService(AttrMap.parse(encodeWith((w) => writeService(w, s))))).to.deep.equal(
          s,
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('property: decodeDestination(encode(destination)) == destination', () => {
    fc.assert(
      fc.property(destination, (d) => {
        const fam = d.family === AF_INET ? AF_INET6 : AF_INET; // the dest's own family wins
        expect(
          decodeDestination(AttrMap.parse(encodeWith((w) => writeDestination(w, d))), fam),
        ).to.deep.equal(d);
      }),
      { numRuns: 1000 },
    );
  });

  it('never sends the kernel-owned HASHED flag; mask is 0xffffffff', () => {
    const s: IpvsService = {
      family: AF_INET,
      protocol: 6,
      address: '10.0.0.1',
      port: 80,
      fwmark: 0,
      scheduler: 'rr',
      flags: C.IP_VS_SVC_F_HASHED | C.IP_VS_SVC_F_PERSISTENT,
      timeout: 10800,
      netmask: 0xffffffff,
      peName: '',
    };
    const flags = must(
      AttrMap.parse(encodeWith((w) => writeService(w, s))).get(C.IPVS_SVC_ATTR_FLAGS),
    );
    expect(flags.readUInt32LE(0)).to.equal(C.IP_VS_SVC_F_PERSISTENT);
    expect(flags.readUInt32LE(4)).to.equal(0xffffffff);
  });

  it('encodes the port big-endian and an IPv4 netmask in network order', () => {
    const s: IpvsService = {
      family: AF_INET,
      protocol: 6,
      address: '10.0.0.1',
      port: 443,
      fwmark: 0,
      scheduler: 'rr',
      flags: 0,
      timeout: 0,
      netmask: 0xffffff00,
      peName: '',
    };
    const a = AttrMap.parse(encodeWith((w) => writeService(w, s)));
    expect([...must(a.get(C.IPVS_SVC_ATTR_PORT))]).to.deep.equal([1, 187]);
    expect([...must(a.get(C.IPVS_SVC_ATTR_NETMASK))]).to.deep.equal([255, 255, 255, 0]);
    expect([...must(a.get(C.IPVS_SVC_ATTR_ADDR))]).to.deep.equal([10, 0, 0, 1]);
  });

  it('identifies a fwmark service by family and mark only', () => {
    const a = AttrMap.parse(
      encodeWith((w) =>
        writeServiceId(w, { family: AF_INET6, protocol: 0, address: '', port: 0, fwmark: 9 }),
      ),
    );
    expect(a.u16(C.IPVS_SVC_ATTR_AF)).to.equal(AF_INET6);
    expect(a.u32(C.IPVS_SVC_ATTR_FWMARK)).to.equal(9);
    expect(a.has(C.IPVS_SVC_ATTR_ADDR)).to.equal(false);
  });

  it('reads IPv4 from a 16-byte dump address and prefers STATS64 over STATS', () => {
    const s: IpvsService = {
      family: AF_INET,
      protocol: 17,
      address: '192.168.1.2',
      port: 53,
      fwmark: 0,
      scheduler: 'wlc',
      flags: 0,
      timeout: 0,
      netmask: 0xffffffff,
      peName: '',
    };
    // Dumps carry 16 address bytes whatever the family, and the HASHED flag.
    const attrs = encodeWith((w) => {
      w.u16(C.IPVS_SVC_ATTR_AF, AF_INET);
      w.u16(C.IPVS_SVC_ATTR_PROTOCOL, 17);
      w.bytes(C.IPVS_SVC_ATTR_ADDR, Buffer.concat([parseIPv4(s.address), Buffer.alloc(12)]));
      w.be16(C.IPVS_SVC_ATTR_PORT, 53);
      w.str(C.IPVS_SVC_ATTR_SCHED_NAME, 'wlc');
      w.u32pair(C.IPVS_SVC_ATTR_FLAGS, C.IP_VS_SVC_F_HASHED, 0xffffffff);
      w.u32(C.IPVS_SVC_ATTR_TIMEOUT, 0);
      w.be32(C.IPVS_SVC_ATTR_NETMASK, 0xffffffff);
      const at = w.begin(C.IPVS_SVC_ATTR_STATS64);
      w.u64(C.IPVS_STATS_ATTR_INBYTES, 2n ** 40n);
      w.end(at);
    });
    const back = decodeService(AttrMap.parse(attrs));
    expect(back).to.deep.include({ ...s, stats: back.stats });
    expect(back.address).to.equal('192.168.1.2');
    expect(back.stats?.inBytes).to.equal(2n ** 40n);
    expect(back.stats?.conns).to.equal(0n);
    expect(decodeService(AttrMap.parse(attrs), false)).to.not.have.property('stats');
  });

  it('raises NetlinkDecodeError for a service without a scheduler', () => {
    const attrs = encodeWith((w) =>
      writeServiceId(w, { family: AF_INET, protocol: 6, address: '1.2.3.4', port: 1, fwmark: 0 }),
    );
    expect(() => decodeService(AttrMap.parse(attrs))).to.throw(
      NetlinkDecodeError,
      /missing IPVS_SVC_ATTR_/,
    );
  });

  it('refuses a scheduler name longer than the kernel allows', () => {
    const s: IpvsService = {
      family: AF_INET,
      protocol: 6,
      address: '1.2.3.4',
      port: 1,
      fwmark: 0,
      scheduler: 'x'.repeat(16),
      flags: 0,
      timeout: 0,
      netmask: 0xffffffff,
      peName: '',
    };
    expect(() => encodeWith((w) => writeService(w, s))).to.throw(RangeError);
  });

  it('property: random attribute bytes decode or raise NetlinkDecodeError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom(AF_INET, AF_INET6),
        (u, fam) => {
          for (const decode of [
            (m: AttrMap) => decodeService(m),
            (m: AttrMap) => decodeDestination(m, fam),
          ]) {
            try {
              decode(AttrMap.parse(Buffer.from(u)));
            } catch (e) {
              expect(e).to.be.instanceOf(NetlinkDecodeError);
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('property: mutated valid service attributes decode or raise NetlinkDecodeError', () => {
    fc.assert(
      fc.property(service, fc.nat(), fc.integer({ min: 0, max: 255 }), (s, at, byte) => {
        const b = encodeWith((w) => writeService(w, s));
        b[at % b.length] = byte;
        try {
          decodeService(AttrMap.parse(b));
        } catch (e) {
          expect(e).to.be.instanceOf(NetlinkDecodeError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

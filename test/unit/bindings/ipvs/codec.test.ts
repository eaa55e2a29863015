import { expect } from 'chai';
import fc from 'fast-check';
import { formatIPv4, formatIPv6, parseIPv4 } from '../../../../bindings/ipvs/address.js';
import {
  decodeDestination,
  decodeInfo,
  decodeService,
  decodeStats,
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
import {
  NLMSG_DONE,
  NLMSG_ERROR,
  NLM_F_CAPPED,
  NLM_F_MULTI,
} from '../../../../bindings/netlink/constants.js';
import { encodeWith } from '../../../../bindings/netlink/writer.js';
import { NetlinkDecodeError, errnoName } from '../../../../bindings/netlink/errors.js';
import { decodeGenl } from '../../../../bindings/netlink/genl.js';
import {
  type NetlinkMessage,
  decodeErrorReply,
  decodeMessages,
} from '../../../../bindings/netlink/message.js';
import { kernelReplies } from '../kernel-replies.js';
import { must } from '../must.js';
import { UML_IPVS_FAMILY, umlDestinations443, umlServices } from './uml-table.js';

/** Every message of a fixture, in the order the kernel sent them. */
const messagesOf = (fixture: string): NetlinkMessage[] =>
  kernelReplies(fixture).flatMap((d) => decodeMessages(d));

/** The attributes of each IPVS-family message of a fixture (the DONE/ACK left out). */
const ipvsAttrs = (fixture: string): AttrMap[] =>
  messagesOf(fixture)
    .filter((m) => m.type === UML_IPVS_FAMILY)
    .map((m) => decodeGenl(m).attrs);

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

describe('IPVS codec on real kernel replies (UML 6.1 fixtures)', () => {
  it('a service dump: two services in one datagram, then NLMSG_DONE', () => {
    const ms = messagesOf('ipvs-service-dump');
    expect(ms.map((m) => [m.type, m.flags & NLM_F_MULTI])).to.deep.equal([
      [UML_IPVS_FAMILY, NLM_F_MULTI],
      [UML_IPVS_FAMILY, NLM_F_MULTI],
      [NLMSG_DONE, NLM_F_MULTI],
    ]);
    expect(kernelReplies('ipvs-service-dump')).to.have.length(2);
  });

  it('decodes both services field by field: addresses, ports, scheduler, flags, timeout, netmask, stats64', () => {
    const got = ipvsAttrs('ipvs-service-dump').map((a) =>
      decodeService(must(a.nested(C.IPVS_CMD_ATTR_SERVICE))),
    );
    expect(got).to.deep.equal(umlServices);
  });

  it('masks HASHED, which the kernel sets on every listed service', () => {
    for (const a of ipvsAttrs('ipvs-service-dump')) {
      const svc = must(a.nested(C.IPVS_CMD_ATTR_SERVICE));
      const raw = must(svc.get(C.IPVS_SVC_ATTR_FLAGS));
      expect(raw.readUInt32LE(0) & C.IP_VS_SVC_F_HASHED).to.equal(C.IP_VS_SVC_F_HASHED);
      expect(raw.readUInt32LE(4)).to.equal(0xffffffff);
      expect(decodeService(svc).flags & C.IP_VS_SVC_F_HASHED).to.equal(0);
    }
  });

  it('leaves the counters out on request', () => {
    const [a] = ipvsAttrs('ipvs-service-dump');
    const svc = decodeService(must(must(a).nested(C.IPVS_CMD_ATTR_SERVICE)), false);
    expect(svc).to.not.have.property('stats');
    const want = must(umlServices[0]);
    expect({ ...svc, stats: want.stats }).to.deep.equal(want);
  });

  it('decodes both destinations: address, port, weight, forward, thresholds, connections, stats64', () => {
    const got = ipvsAttrs('ipvs-dest-dump').map((a) =>
      decodeDestination(must(a.nested(C.IPVS_CMD_ATTR_DEST)), AF_INET),
    );
    expect(got).to.deep.equal(umlDestinations443);
  });

  it('a destination carries STATS and STATS64; both read the same counters', () => {
    const dests = ipvsAttrs('ipvs-dest-dump').map((a) => must(a.nested(C.IPVS_CMD_ATTR_DEST)));
    expect(dests).to.have.length(umlDestinations443.length);
    dests.forEach((d, i) => {
      const want = must(umlDestinations443[i]).stats;
      expect(decodeStats(must(d.nested(C.IPVS_DEST_ATTR_STATS64)), true)).to.deep.equal(want);
      expect(decodeStats(must(d.nested(C.IPVS_DEST_ATTR_STATS)), false)).to.deep.equal(want);
    });
  });

  it('decodes IPVS_CMD_GET_INFO: version 1.2.1, connection table of 4096', () => {
    const [a, ...rest] = ipvsAttrs('ipvs-get-info');
    expect(rest).to.have.length(0);
    expect(decodeInfo(must(a))).to.deep.equal({ version: 0x010201, connTableSize: 4096 });
    const ack = must(messagesOf('ipvs-get-info')[1]);
    expect(ack.type).to.equal(NLMSG_ERROR);
    expect(decodeErrorReply(ack).errno).to.equal(0);
  });

  it('decodes the EEXIST refusal of a service that exists: capped, errno 17', () => {
    const ms = messagesOf('ipvs-error-exists');
    expect(ms).to.have.length(1);
    const m = must(ms[0]);
    expect(m.type).to.equal(NLMSG_ERROR);
    expect(m.flags & NLM_F_CAPPED).to.equal(NLM_F_CAPPED);
    const e = decodeErrorReply(m);
    expect(e.errno).to.equal(17);
    expect(errnoName(e.errno)).to.equal('EEXIST');
  });
});

describe('IPVS codec (writer round trips)', () => {
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

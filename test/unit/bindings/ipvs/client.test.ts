// IpvsClient over a fake socket: what it sends and how it maps replies back.
import { expect } from 'chai';
import { IpvsClient } from '../../../../bindings/ipvs/client.js';
import * as C from '../../../../bindings/ipvs/constants.js';
import { AF_INET, type IpvsService } from '../../../../bindings/ipvs/types.js';
import { AttrMap } from '../../../../bindings/netlink/attributes.js';
import { NetlinkConnection } from '../../../../bindings/netlink/connection.js';
import {
  NLMSG_DONE,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
} from '../../../../bindings/netlink/constants.js';
import { NetlinkDumpInterruptedError, NetlinkError } from '../../../../bindings/netlink/errors.js';
import { decodeGenl, genlPayload, resolveFamily } from '../../../../bindings/netlink/genl.js';
import { decodeMessages, encodeMessages } from '../../../../bindings/netlink/message.js';
import { encodeWith } from '../../../../bindings/netlink/writer.js';
import { writeServiceNest } from '../../../../bindings/ipvs/codec.js';
import { FakeSocket, type FakeKernel, errorReply, sysError } from '../netlink/fake-socket.js';
import { replayKernel } from '../kernel-replies.js';
import { must } from '../must.js';
import { UML_IPVS_FAMILY, tcp443, umlDestinations443, umlServices } from './uml-table.js';

const FAMILY = 40;

const svc = (address: string, port = 80): IpvsService => ({
  family: AF_INET,
  protocol: 6,
  address,
  port,
  fwmark: 0,
  scheduler: 'rr',
  flags: 0,
  timeout: 0,
  netmask: 0xffffffff,
  peName: '',
});

/**
 * Refuses NEW_SERVICE for port 81 with EEXIST; dumps return `table`. The first
 * `interrupted` dumps repeat the first entry and flag NLM_F_DUMP_INTR, as a dump
 * resumed by position does when the table changed under it.
 */
function kernel(table: IpvsService[], interrupted = 0): FakeKernel {
  let dumps = 0;
  return (d, sock) => {
    const out: Buffer[] = [];
    for (const m of decodeMessages(d)) {
      const g = decodeGenl(m);
      if (m.flags & NLM_F_DUMP) {
        const intr = dumps++ < interrupted;
        const rows = intr && table[0] ? [table[0], ...table] : table;
        for (const s of rows) {
          const payload = Buffer.concat([
            genlPayload(C.IPVS_CMD_NEW_SERVICE, 1, []),
            encodeWith((w) => writeServiceNest(w, s, true)),
          ]);
          out.push(
            encodeMessages([
              {
                type: FAMILY,
                flags: NLM_F_MULTI | (intr ? NLM_F_DUMP_INTR : 0),
                seq: m.seq,
                pid: sock.portId,
                payload,
              },
            ]),
          );
        }
        out.push(
          encodeMessages([
            {
              type: NLMSG_DONE,
              flags: NLM_F_MULTI,
              seq: m.seq,
              pid: sock.portId,
              payload: Buffer.alloc(4),
            },
          ]),
        );
        continue;
      }
      const port = g.attrs.nested(C.IPVS_CMD_ATTR_SERVICE)?.be16(C.IPVS_SVC_ATTR_PORT);
      if (g.cmd === C.IPVS_CMD_NEW_SERVICE && port === 81)
        out.push(errorReply(m.seq, sock.portId, 17));
      else if (m.flags & NLM_F_ACK) out.push(errorReply(m.seq, sock.portId, 0));
    }
    return out;
  };
}

function client(
  table: IpvsService[] = [],
  interrupted = 0,
  dumpRetries?: number,
): { c: IpvsClient; sock: () => FakeSocket } {
  let s: FakeSocket | undefined;
  const conn = new NetlinkConnection((cb) => (s = new FakeSocket(cb, kernel(table, interrupted))));
  const opts = dumpRetries === undefined ? {} : { dumpRetries };
  return { c: IpvsClient.fromConnection(conn, FAMILY, opts), sock: () => must(s) };
}

/** A client whose every request the kernel's recorded reply answers. */
function replaying(fixture: string): { c: IpvsClient; sock: () => FakeSocket } {
  let s: FakeSocket | undefined;
  const conn = new NetlinkConnection((cb) => (s = new FakeSocket(cb, replayKernel(fixture))));
  return { c: IpvsClient.fromConnection(conn, UML_IPVS_FAMILY), sock: () => must(s) };
}

describe('IpvsClient on real kernel replies (UML 6.1 fixtures)', () => {
  it("resolves the IPVS family from the kernel's CTRL_CMD_GETFAMILY reply", async () => {
    const conn = new NetlinkConnection(
      (cb) => new FakeSocket(cb, replayKernel('ctrl-getfamily-ipvs')),
    );
    expect(await resolveFamily(conn, C.IPVS_GENL_NAME)).to.deep.equal({
      id: UML_IPVS_FAMILY,
      name: C.IPVS_GENL_NAME,
      version: C.IPVS_GENL_VERSION,
      maxAttr: C.IPVS_CMD_ATTR_TIMEOUT_UDP,
    });
  });

  it("getServices decodes the kernel's dump, counters included", async () => {
    const { c, sock } = replaying('ipvs-service-dump');
    expect(await c.getServices()).to.deep.equal(umlServices);
    const g = decodeGenl(must(decodeMessages(must(sock().sent[0]))[0]));
    expect(g.cmd).to.equal(C.IPVS_CMD_GET_SERVICE);
  });

  it('getServices({ stats: false }) gives the configuration only', async () => {
    const { c } = replaying('ipvs-service-dump');
    const got = await c.getServices({ stats: false });
    expect(got.map((s) => ({ ...s, stats: undefined }))).to.deep.equal(
      umlServices.map((s) => ({ ...s, stats: undefined })),
    );
    for (const s of got) expect(s).to.not.have.property('stats');
  });

  it("getDestinations decodes the kernel's dump of TCP 10.96.0.1:443", async () => {
    const { c } = replaying('ipvs-dest-dump');
    expect(await c.getDestinations(tcp443)).to.deep.equal(umlDestinations443);
  });

  it('getInfo reads version 1.2.1 and a connection table of 4096', async () => {
    const { c } = replaying('ipvs-get-info');
    expect(await c.getInfo()).to.deep.equal({ version: 0x010201, connTableSize: 4096 });
  });

  it("addService of an existing service throws the kernel's EEXIST", async () => {
    const { c } = replaying('ipvs-error-exists');
    const err = await c.addService({ ...tcp443, flags: 0 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NetlinkError);
    expect((err as NetlinkError).errno).to.equal(17);
    expect((err as NetlinkError).code).to.equal('EEXIST');
    expect((err as NetlinkError).message).to.equal(
      'IPVS_CMD_NEW_SERVICE TCP 10.96.0.1:443: EEXIST',
    );
  });

  it('apply reports the EEXIST for the op it answers', async () => {
    const { c } = replaying('ipvs-error-exists');
    const [r] = await c.apply([{ op: 'addService', service: tcp443 }]);
    expect(r?.ok).to.equal(false);
    const err = (r?.ok === false ? r.error : undefined) as NetlinkError;
    expect(err).to.be.instanceOf(NetlinkError);
    expect(err.code).to.equal('EEXIST');
  });
});

describe('IpvsClient (fake socket)', () => {
  it('apply: one datagram, per-op results; an op that cannot be encoded fails alone', async () => {
    const { c, sock } = client();
    const rs = await c.apply([
      { op: 'addService', service: svc('10.0.0.1') },
      { op: 'addService', service: svc('10.0.0.1', 81) },
      { op: 'addService', service: svc('10.0.0.300') },
      { op: 'deleteService', service: svc('10.0.0.2') },
    ]);
    expect(rs.map((r) => (r.ok ? 'ok' : r.error.name))).to.deep.equal([
      'ok',
      'NetlinkError',
      'TypeError',
      'ok',
    ]);
    const r1 = must(rs[1]);
    const err = (r1.ok ? undefined : r1.error) as NetlinkError;
    expect(err.code).to.equal('EEXIST');
    expect(err.message).to.contain('IPVS_CMD_NEW_SERVICE TCP 10.0.0.1:81');
    expect(sock().sent).to.have.length(1);
    const cmds = decodeMessages(must(sock().sent[0])).map((m) => decodeGenl(m).cmd);
    expect(cmds).to.deep.equal([
      C.IPVS_CMD_NEW_SERVICE,
      C.IPVS_CMD_NEW_SERVICE,
      C.IPVS_CMD_DEL_SERVICE,
    ]);
  });

  it('apply builds requests a datagram at a time; after lost replies the rest is not sent', async () => {
    let n = 0;
    const base = kernel([]);
    let s: FakeSocket | undefined;
    const conn = new NetlinkConnection(
      (cb) =>
        (s = new FakeSocket(cb, (d, sock) =>
          n++ === 1 ? [sysError('ENOBUFS', 105)] : base(d, sock),
        )),
    );
    const c = IpvsClient.fromConnection(conn, FAMILY);
    // Room for the replies of two messages per datagram.
    must(s).rcvbuf = 2 * 1024;
    const ops = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'].map(
      (a) => ({ op: 'addService' as const, service: svc(a) }),
    );
    const rs = await c.apply(ops);
    // The first datagram is answered, the second overruns, the third is never sent.
    expect(must(s).sent.map((d) => decodeMessages(d).length)).to.deep.equal([2, 2]);
    expect(rs.map((r) => (r.ok ? 'ok' : r.error.name))).to.deep.equal([
      'ok',
      'ok',
      'NetlinkRepliesLostError',
      'NetlinkRepliesLostError',
      'NetlinkRepliesLostError',
      'NetlinkRepliesLostError',
    ]);
    expect((rs[5] as { error: Error }).error.message).to.contain('not sent');
  });

  it('a single op throws the kernel error', async () => {
    const { c } = client();
    const err = await c.addService(svc('10.0.0.1', 81)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NetlinkError);
    expect((err as NetlinkError).code).to.equal('EEXIST');
  });

  it('getServices decodes a dump', async () => {
    const table = [svc('10.0.0.1'), svc('10.0.0.2', 443)];
    const { c, sock } = client(table);
    expect(await c.getServices()).to.deep.equal(table);
    const [m] = decodeMessages(must(sock().sent[0]));
    expect(must(m).flags & NLM_F_DUMP).to.equal(NLM_F_DUMP);
    expect(decodeGenl(must(m)).cmd).to.equal(C.IPVS_CMD_GET_SERVICE);
  });

  it('re-reads a dump flagged NLM_F_DUMP_INTR and returns the consistent one', async () => {
    const table = [svc('10.0.0.1'), svc('10.0.0.2', 443)];
    const { c, sock } = client(table, 2);
    expect(await c.getServices()).to.deep.equal(table);
    expect(sock().sent).to.have.length(3);
  });

  it('gives up after dumpRetries with NetlinkDumpInterruptedError carrying the replies', async () => {
    const table = [svc('10.0.0.1')];
    const { c, sock } = client(table, 10, 2);
    const err = await c.getServices().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NetlinkDumpInterruptedError);
    expect((err as NetlinkDumpInterruptedError).replies).to.have.length(2);
    expect(sock().sent).to.have.length(3);
  });

  it('drops a repeated service even when the kernel does not flag the dump', async () => {
    const a = svc('10.0.0.1');
    const { c } = client([a, svc('10.0.0.2'), { ...a }]);
    expect((await c.getServices()).map((s) => s.address)).to.deep.equal(['10.0.0.1', '10.0.0.2']);
  });

  it('sends the service identity for a destination dump', async () => {
    const { c, sock } = client();
    await c.getDestinations(svc('10.9.8.7', 8443));
    const g = decodeGenl(must(decodeMessages(must(sock().sent[0]))[0]));
    expect(g.cmd).to.equal(C.IPVS_CMD_GET_DEST);
    const s: AttrMap = must(g.attrs.nested(C.IPVS_CMD_ATTR_SERVICE));
    expect([...must(s.get(C.IPVS_SVC_ATTR_ADDR))]).to.deep.equal([10, 9, 8, 7]);
    expect(s.be16(C.IPVS_SVC_ATTR_PORT)).to.equal(8443);
    expect(s.has(C.IPVS_SVC_ATTR_SCHED_NAME)).to.equal(false);
  });
});

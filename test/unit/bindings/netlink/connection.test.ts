import { expect } from 'chai';
import fc from 'fast-check';
import {
  DEFAULT_MAX_BATCH_MESSAGES,
  NetlinkConnection,
  type Request,
} from '../../../../bindings/netlink/connection.js';
import {
  NLMSG_DONE,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
} from '../../../../bindings/netlink/constants.js';
import {
  NetlinkDecodeError,
  NetlinkDumpInterruptedError,
  NetlinkError,
  NetlinkReceiveError,
  NetlinkRepliesLostError,
  NetlinkSendError,
  NetlinkTimeoutError,
  NetlinkTruncatedError,
} from '../../../../bindings/netlink/errors.js';
import {
  type NetlinkMessage,
  decodeMessages,
  encodeMessages,
} from '../../../../bindings/netlink/message.js';
import {
  FakeBlockingSocket,
  FakeSocket,
  type FakeKernel,
  errorReply,
  sysError,
} from './fake-socket.js';
import { must } from '../must.js';

const TYPE = 30;

/**
 * payload[0]: 0 = succeed, else the errno to fail with; payload[1]: reply messages to
 * send; payload[2] (dumps): 1 = NLM_F_DUMP_INTR from the second datagram on, 2 = only
 * on NLMSG_DONE.
 */
function req(errno = 0, replies = 0, intr = 0): Request {
  return {
    type: TYPE,
    payload: Buffer.from([errno, replies, intr, 0]),
    describe: () => `op${errno}`,
  };
}

/** Behaves like af_netlink: in order, an error reply per failing message, ACK where asked. */
const kernel: FakeKernel = (d, sock) => {
  const out: Buffer[] = [];
  for (const m of decodeMessages(d)) {
    const errno = must(m.payload[0]);
    const nReplies = must(m.payload[1]);
    const intr = must(m.payload[2]);
    if (m.flags & NLM_F_DUMP) {
      // a dump spread across three datagrams, then DONE
      for (let i = 0; i < 3; i++) {
        const flags = NLM_F_MULTI | (intr === 1 && i > 0 ? NLM_F_DUMP_INTR : 0);
        out.push(
          encodeMessages([
            {
              type: TYPE,
              flags,
              seq: m.seq,
              pid: sock.portId,
              payload: Buffer.from([i, 0, 0, 0]),
            },
            {
              type: TYPE,
              flags,
              seq: m.seq,
              pid: sock.portId,
              payload: Buffer.from([i, 1, 0, 0]),
            },
          ]),
        );
      }
      out.push(
        encodeMessages([
          {
            type: NLMSG_DONE,
            flags: NLM_F_MULTI | (intr ? NLM_F_DUMP_INTR : 0),
            seq: m.seq,
            pid: sock.portId,
            payload: Buffer.alloc(4),
          },
        ]),
      );
      continue;
    }
    for (let i = 0; i < nReplies; i++) {
      out.push(
        encodeMessages([
          { type: TYPE, flags: 0, seq: m.seq, pid: sock.portId, payload: Buffer.from([i]) },
        ]),
      );
    }
    if (errno) out.push(errorReply(m.seq, sock.portId, errno, { msg: `no (${errno})` }));
    else if (m.flags & NLM_F_ACK) out.push(errorReply(m.seq, sock.portId, 0));
  }
  return out;
};

function connect(
  k: FakeKernel = kernel,
  opts = {},
): { conn: NetlinkConnection; sock: () => FakeSocket } {
  let s: FakeSocket | undefined;
  const conn = new NetlinkConnection((cb) => (s = new FakeSocket(cb, k)), opts);
  return { conn, sock: () => must(s) };
}

describe('netlink connection (fake socket)', () => {
  it('matches a reply to its request by seq and resolves with the data messages', async () => {
    const { conn, sock } = connect();
    const replies = await conn.request(req(0, 2));
    expect(replies.map((m) => m.payload[0])).to.deep.equal([0, 1]);
    const [sent] = decodeMessages(must(sock().sent[0]));
    expect(must(sent).flags & NLM_F_ACK).to.equal(NLM_F_ACK);
    expect(must(replies[0]).seq).to.equal(must(sent).seq);
    // The event loop is held only while requests wait (released on the next idle tick).
    expect(sock().refd).to.equal(true);
    await new Promise((r) => setTimeout(r, 250));
    expect(sock().refd).to.equal(false);
  });

  it('maps a per-message error to its request with errno name and ext-ack text', async () => {
    const { conn } = connect();
    const err = await conn.request(req(17)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(NetlinkError);
    const ne = err as NetlinkError;
    expect(ne.code).to.equal('EEXIST');
    expect(ne.errno).to.equal(17);
    expect(ne.extAck).to.equal('no (17)');
    expect(ne.message).to.contain('op17').and.contain('EEXIST').and.contain('no (17)');
  });

  it('packs a batch into one datagram with NLM_F_ACK only on the last message', async () => {
    const { conn, sock } = connect();
    const rs = await conn.batch([req(), req(17), req(), req(2), req()]);
    expect(sock().sent).to.have.length(1);
    const flags = decodeMessages(must(sock().sent[0])).map((m) => m.flags & NLM_F_ACK);
    expect(flags).to.deep.equal([0, 0, 0, 0, NLM_F_ACK]);
    expect(rs.map((r) => (r.ok ? 'ok' : (r.error as NetlinkError).code))).to.deep.equal([
      'ok',
      'EEXIST',
      'ok',
      'ENOENT',
      'ok',
    ]);
  });

  it("'every' mode ACKs each message and still maps errors per message", async () => {
    const { conn, sock } = connect();
    const rs = await conn.batch([req(), req(22), req()], 'every');
    expect(decodeMessages(must(sock().sent[0])).every((m) => (m.flags & NLM_F_ACK) !== 0)).to.equal(
      true,
    );
    expect(rs.map((r) => r.ok)).to.deep.equal([true, false, true]);
  });

  it('closes a batch whose last message fails', async () => {
    const { conn } = connect();
    const rs = await conn.batch([req(), req(3)]);
    expect(rs.map((r) => r.ok)).to.deep.equal([true, false]);
  });

  it('splits batches to fit sndbuf − 32 bytes per datagram', async () => {
    const { conn, sock } = connect();
    sock().sndbuf = 32 + 20 * 10; // ten 20-byte messages per datagram
    const rs = await conn.batch(Array.from({ length: 35 }, () => req()));
    expect(rs.every((r) => r.ok)).to.equal(true);
    expect(sock().sent.map((d) => d.length)).to.deep.equal([200, 200, 200, 100]);
  });

  it('limits messages per datagram so worst-case replies fit rcvbuf', async () => {
    const { conn, sock } = connect(kernel, { replyCost: 1000 });
    sock().rcvbuf = 8000;
    expect(conn.maxMessagesPerDatagram()).to.equal(8);
    const rs = await conn.batch(Array.from({ length: 20 }, () => req()));
    expect(rs).to.have.length(20);
    expect(sock().sent.map((d) => decodeMessages(d).length)).to.deep.equal([8, 8, 4]);
  });

  it('reassembles a dump across datagrams until NLMSG_DONE', async () => {
    const { conn, sock } = connect();
    const ms = await conn.dump(req());
    expect(ms.map((m) => [...m.payload.subarray(0, 2)])).to.deep.equal([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ]);
    expect(must(decodeMessages(must(sock().sent[0]))[0]).flags & NLM_F_DUMP).to.equal(NLM_F_DUMP);
  });

  it('fails a dump the kernel refuses with the error', async () => {
    const refuse: FakeKernel = (d, s) =>
      decodeMessages(d).map((m) => errorReply(m.seq, s.portId, 16));
    const { conn } = connect(refuse);
    const err = await conn.dump(req()).catch((e: unknown) => e);
    expect((err as NetlinkError).code).to.equal('EBUSY');
  });

  it('times out a request that gets no reply, and ignores the late reply', async () => {
    let held: NetlinkMessage | undefined;
    const silent: FakeKernel = (d) => {
      held = decodeMessages(d)[0];
      return [];
    };
    const { conn, sock } = connect(silent, { timeoutMs: 30 });
    const err = await conn.request(req()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NetlinkTimeoutError);
    sock().deliver(errorReply(must(held).seq, sock().portId, 0));
    await new Promise((r) => setTimeout(r, 250));
    expect(sock().refd).to.equal(false);
  });

  it('after ENOBUFS fails every pending request with NetlinkRepliesLostError and keeps working', async () => {
    let first = true;
    const overrun: FakeKernel = (d, s) => {
      if (first) {
        first = false;
        return [sysError('ENOBUFS', 105)];
      }
      return kernel(d, s);
    };
    const { conn } = connect(overrun);
    const rs = await conn.batch([req(), req(), req()]);
    expect(rs.every((r) => !r.ok && r.error instanceof NetlinkRepliesLostError)).to.equal(true);
    expect(conn.overruns).to.equal(1);
    expect(await conn.request(req(0, 1))).to.have.length(1);
  });

  it('gives each receive failure its own error: truncated datagram, other errno', async () => {
    let n = 0;
    const failing: FakeKernel = (d, s) => {
      n++;
      if (n === 1) return [sysError('EMSGSIZE', 90, true)];
      if (n === 2) return [sysError('EBADF', 9)];
      return kernel(d, s);
    };
    const { conn } = connect(failing);
    const t = await conn.request(req()).catch((e: unknown) => e);
    expect(t).to.be.instanceOf(NetlinkTruncatedError);
    expect((t as NetlinkTruncatedError).code).to.equal('EMSGSIZE');
    expect(t).to.not.be.instanceOf(NetlinkRepliesLostError);
    const b = await conn.request(req()).catch((e: unknown) => e);
    expect(b).to.be.instanceOf(NetlinkReceiveError);
    expect((b as NetlinkReceiveError).code).to.equal('EBADF');
    expect((b as NetlinkReceiveError).errno).to.equal(9);
    expect(conn.overruns).to.equal(0);
    expect(await conn.request(req(0, 1))).to.have.length(1);
  });

  it('a truncated datagram in a split batch stops the later datagrams too', async () => {
    let n = 0;
    const trunc: FakeKernel = (d, s) =>
      n++ === 0 ? [sysError('EMSGSIZE', 90, true)] : kernel(d, s);
    const { conn, sock } = connect(trunc);
    sock().sndbuf = 32 + 40;
    const rs = await conn.batch([req(), req(), req(), req()]);
    expect(sock().sent).to.have.length(1);
    expect(rs.every((r) => !r.ok)).to.equal(true);
    expect((rs[0] as { error: Error }).error).to.be.instanceOf(NetlinkTruncatedError);
    expect((rs[3] as { error: Error }).error.message).to.contain('not sent');
  });

  it('a dump flagged NLM_F_DUMP_INTR completes, then throws NetlinkDumpInterruptedError with its replies', async () => {
    for (const intr of [1, 2]) {
      const { conn } = connect();
      const err = await conn.dump(req(0, 0, intr)).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NetlinkDumpInterruptedError);
      const di = err as NetlinkDumpInterruptedError;
      expect(di.replies.map((m) => m.payload[0])).to.deep.equal([0, 0, 1, 1, 2, 2]);
      expect(di.message).to.contain('op0').and.contain('NLM_F_DUMP_INTR');
      // The exchange ended at NLMSG_DONE: the socket goes on with the next request.
      expect(await conn.dump(req())).to.have.length(6);
    }
  });

  it('refuses a negative or non-finite timeout', () => {
    for (const timeoutMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => connect(kernel, { timeoutMs })).to.throw(RangeError, /timeoutMs/);
    }
  });

  it('defaults maxBatchMessages to DEFAULT_MAX_BATCH_MESSAGES', () => {
    expect(connect().conn.options.maxBatchMessages).to.equal(DEFAULT_MAX_BATCH_MESSAGES);
  });

  it('after an overrun in a split batch, later datagrams are not sent and say so', async () => {
    let n = 0;
    const overrun: FakeKernel = (d, s) => (n++ === 0 ? [sysError('ENOBUFS', 105)] : kernel(d, s));
    const { conn, sock } = connect(overrun);
    sock().sndbuf = 32 + 40;
    const rs = await conn.batch([req(), req(), req(), req()]);
    expect(sock().sent).to.have.length(1);
    expect(rs.every((r) => !r.ok && r.error instanceof NetlinkRepliesLostError)).to.equal(true);
    expect((rs[3] as { error: Error }).error.message).to.contain('not sent');
  });

  it('fails pending requests with NetlinkDecodeError on a malformed datagram', async () => {
    const garbage: FakeKernel = () => [Buffer.from([1, 2, 3, 4, 5])];
    const { conn } = connect(garbage, { timeoutMs: 1000 });
    const err = await conn.request(req()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NetlinkDecodeError);
  });

  it('reports a send failure as NetlinkSendError', async () => {
    const { conn, sock } = connect();
    sock().send = () => {
      const e = new Error('sendto: EMSGSIZE') as Error & { errno: number; code: string };
      e.errno = 90;
      e.code = 'EMSGSIZE';
      throw e;
    };
    const err = await conn.request(req()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NetlinkSendError);
    expect((err as NetlinkSendError).code).to.equal('EMSGSIZE');
  });

  it('property: any mix of failing ops in a batch maps every result to its own op', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(0, 0, 0, 2, 17, 22), { minLength: 1, maxLength: 60 }),
        async (errnos) => {
          const { conn, sock } = connect();
          sock().sndbuf = 32 + 20 * 7;
          const rs = await conn.batch(errnos.map((e) => req(e)));
          expect(rs.map((r) => (r.ok ? 0 : (r.error as NetlinkError).errno))).to.deep.equal(errnos);
        },
      ),
      { numRuns: 50 },
    );
  });

  describe('blocking mode (receive() instead of the event loop)', () => {
    function blocking(
      k: FakeKernel = kernel,
      opts = {},
    ): { conn: NetlinkConnection; sock: () => FakeBlockingSocket } {
      let s: FakeBlockingSocket | undefined;
      const conn = new NetlinkConnection((cb) => (s = new FakeBlockingSocket(cb, k)), {
        ...opts,
        blocking: true,
      });
      return { conn, sock: () => must(s) };
    }

    it('answers requests, batches and dumps without holding the event loop', async () => {
      const { conn, sock } = blocking();
      expect((await conn.request(req(0, 2))).map((m) => m.payload[0])).to.deep.equal([0, 1]);
      const ms = await conn.dump(req());
      expect(ms).to.have.length(6);
      const rs = await conn.batch([req(), req(17), req()]);
      expect(rs.map((r) => r.ok)).to.deep.equal([true, false, true]);
      expect(sock().refd).to.equal(false);
      expect(sock().receives).to.be.greaterThan(0);
    });

    it('times out when nothing arrives', async () => {
      const { conn } = blocking(() => [], { timeoutMs: 30 });
      const err = await conn.request(req()).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NetlinkTimeoutError);
    });

    it('turns a receive error into NetlinkRepliesLostError and keeps working', async () => {
      let first = true;
      const overrun: FakeKernel = (d, s) => {
        if (first) {
          first = false;
          return [sysError('ENOBUFS', 105)];
        }
        return kernel(d, s);
      };
      const { conn } = blocking(overrun);
      const rs = await conn.batch([req(), req()]);
      expect(rs.every((r) => !r.ok && r.error instanceof NetlinkRepliesLostError)).to.equal(true);
      expect(conn.overruns).to.equal(1);
      expect(await conn.request(req(0, 1))).to.have.length(1);
    });

    it('one wall-clock wait per exchange: receives after the first resume it', async () => {
      const { conn, sock } = blocking(kernel, { timeoutMs: 700 });
      await conn.dump(req());
      // Three data datagrams and NLMSG_DONE: one new wait, then three resumed.
      expect(sock().waits).to.deep.equal([
        { timeoutMs: 700, resume: false },
        { timeoutMs: 700, resume: true },
        { timeoutMs: 700, resume: true },
        { timeoutMs: 700, resume: true },
      ]);
      await conn.request(req());
      expect(must(sock().waits[4]).resume).to.equal(false);
    });

    it('gives a truncated datagram its own error', async () => {
      let first = true;
      const trunc: FakeKernel = (d, s) => {
        if (!first) return kernel(d, s);
        first = false;
        return [sysError('EMSGSIZE', 90, true)];
      };
      const { conn } = blocking(trunc);
      const err = await conn.request(req()).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NetlinkTruncatedError);
      expect(conn.overruns).to.equal(0);
      expect(await conn.request(req(0, 1))).to.have.length(1);
    });
  });
});

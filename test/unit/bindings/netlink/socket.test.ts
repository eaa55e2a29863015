// The native socket against the host kernel's generic netlink controller (no root
// needed): ENOBUFS survival, a throwing callback, no leaks, the blocking receive's
// wall-clock timeout.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { str } from '../../../../bindings/netlink/attributes.js';
import {
  CTRL_ATTR_FAMILY_NAME,
  CTRL_CMD_GETFAMILY,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
} from '../../../../bindings/netlink/constants.js';
import { DEFAULT_MAX_BATCH_MESSAGES } from '../../../../bindings/netlink/connection.js';
import {
  NetlinkAddonError,
  NetlinkError,
  NetlinkRepliesLostError,
} from '../../../../bindings/netlink/errors.js';
import { genlRequest, resolveFamily } from '../../../../bindings/netlink/genl.js';
import { openConnection } from '../../../../bindings/netlink/open.js';
import {
  NetlinkSocket,
  SOL_SOCKET,
  SO_RCVBUF,
  SO_SNDBUF,
  nativeDatagramsPerTurn,
  type SystemError,
} from '../../../../bindings/netlink/socket.js';
import { encodeMessages } from '../../../../bindings/netlink/message.js';
import { NLM_F_REQUEST } from '../../../../bindings/netlink/constants.js';
import { genlPayload } from '../../../../bindings/netlink/genl.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('native netlink socket (host generic netlink)', () => {
  it('binds to a kernel-assigned port id and reports buffer sizes', () => {
    const s = new NetlinkSocket(NETLINK_GENERIC, () => undefined);
    try {
      expect(s.portId).to.be.greaterThan(0);
      s.setsockopt(SOL_SOCKET, SO_RCVBUF, 65536);
      // Linux doubles the value for bookkeeping.
      expect(s.getsockopt(SOL_SOCKET, SO_RCVBUF)).to.equal(131072);
    } finally {
      s.close();
    }
  });

  it('buffer sizes are read again after each change of them, whichever way it is made', () => {
    const s = new NetlinkSocket(NETLINK_GENERIC, () => undefined);
    try {
      s.setsockopt(SOL_SOCKET, SO_RCVBUF, 65536);
      expect(s.receiveBufferSize()).to.equal(131072);
      s.setsockopt(SOL_SOCKET, SO_RCVBUF, 32768);
      expect(s.receiveBufferSize()).to.equal(65536);
      s.setBufferSizes(16384, 16384);
      expect(s.receiveBufferSize()).to.equal(32768);
      expect(s.sendBufferSize()).to.equal(32768);
      expect(s.sendBufferSize()).to.equal(s.getsockopt(SOL_SOCKET, SO_SNDBUF));
    } finally {
      s.close();
    }
  });

  it('throws a system error with errno and code from a failing setsockopt', () => {
    const s = new NetlinkSocket(NETLINK_GENERIC, () => undefined);
    try {
      let err: SystemError | undefined;
      try {
        // netlink_setsockopt answers any level but SOL_NETLINK with -ENOPROTOOPT.
        s.setsockopt(999, 1, 1);
      } catch (e) {
        err = e as SystemError;
      }
      expect(err?.code).to.equal('ENOPROTOOPT');
      expect(err?.errno).to.equal(92);
      expect(err?.syscall).to.equal('setsockopt');
    } finally {
      s.close();
    }
  });

  it('resolves the nlctrl family and maps an unknown family to ENOENT', async () => {
    const conn = openConnection(NETLINK_GENERIC);
    try {
      const fam = await resolveFamily(conn, 'nlctrl');
      expect(fam.id).to.equal(GENL_ID_CTRL);
      const err = await resolveFamily(conn, 'nosuchfamily').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NetlinkError);
      expect((err as NetlinkError).code).to.equal('ENOENT');
    } finally {
      conn.close();
    }
  });

  it("carries the kernel's extended-ack text on a policy failure", async () => {
    const conn = openConnection(NETLINK_GENERIC);
    try {
      // 17 bytes with the NUL: longer than GENL_NAMSIZ, refused by the attribute policy.
      const err = await resolveFamily(conn, 'a-name-too-long-x').catch((e: unknown) => e);
      expect((err as NetlinkError).code).to.equal('EINVAL');
      expect((err as NetlinkError).extAck)
        .to.be.a('string')
        .and.not.equal('');
      expect((err as NetlinkError).message).to.contain((err as NetlinkError).extAck);
    } finally {
      conn.close();
    }
  });

  it('blocking mode: replies are read by receive(), not the event loop', async () => {
    const conn = openConnection(NETLINK_GENERIC, { blocking: true, timeoutMs: 2000 });
    try {
      const fam = await resolveFamily(conn, 'nlctrl');
      expect(fam.id).to.equal(GENL_ID_CTRL);
      const err = await resolveFamily(conn, 'nosuchfamily').catch((e: unknown) => e);
      expect((err as NetlinkError).code).to.equal('ENOENT');
      // A dump of every family spans datagrams and ends with NLMSG_DONE.
      const all = await conn.dump(genlRequest(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, []));
      expect(all.length).to.be.greaterThan(1);
    } finally {
      conn.close();
    }
    // A socket that does not poll: nothing queued, so receive() waits out its timeout.
    const s = new NetlinkSocket(NETLINK_GENERIC, () => undefined, 0, false);
    try {
      const t0 = Date.now();
      expect(s.receive(50)).to.equal(null);
      expect(Date.now() - t0).to.be.at.least(40);
    } finally {
      s.close();
    }
  });

  it('blocking receive: a wall-clock wait that resume continues; a negative timeout is a RangeError', () => {
    const s = new NetlinkSocket(NETLINK_GENERIC, () => undefined, 0, false);
    try {
      expect(() => s.receive(-1)).to.throw(RangeError, /timeoutMs/);
      let t0 = Date.now();
      expect(s.receive(0)).to.equal(null);
      expect(Date.now() - t0).to.be.below(40);
      // A reply queued after the wait began ends it early; the resumed wait gets only
      // what is left of the same 300 ms, not a fresh 300 ms per datagram.
      const ask = (): void =>
        s.send(
          encodeMessages([
            {
              type: GENL_ID_CTRL,
              flags: NLM_F_REQUEST,
              seq: 1,
              pid: s.portId,
              payload: genlPayload(CTRL_CMD_GETFAMILY, 1, [str(CTRL_ATTR_FAMILY_NAME, 'nlctrl')]),
            },
          ]),
        );
      t0 = Date.now();
      expect(s.receive(300)).to.equal(null); // the wait starts and runs out
      expect(Date.now() - t0).to.be.at.least(290);
      ask();
      expect(s.receive(300, true)).to.be.instanceOf(Buffer); // queued: no wait needed
      t0 = Date.now();
      expect(s.receive(300, true)).to.equal(null); // the same wait is already over
      expect(Date.now() - t0).to.be.below(100);
      t0 = Date.now();
      expect(s.receive(150)).to.equal(null); // a new wait
      expect(Date.now() - t0).to.be.at.least(140);
    } finally {
      s.close();
    }
  });

  it("maxBatchMessages is tied to the addon's datagrams per turn", () => {
    expect(nativeDatagramsPerTurn()).to.equal(DEFAULT_MAX_BATCH_MESSAGES);
    expect(() =>
      openConnection(NETLINK_GENERIC, { maxBatchMessages: DEFAULT_MAX_BATCH_MESSAGES + 1 }),
    ).to.throw(RangeError, /MAX_DATAGRAMS_PER_TURN/);
  });

  it('a missing addon file is a NetlinkAddonError naming the path', () => {
    const missing = join(here, 'no-such-dir', 'netlink.node');
    const err = (() => {
      try {
        return openConnection(NETLINK_GENERIC, { addonPath: missing });
      } catch (e) {
        return e;
      }
    })();
    expect(err).to.be.instanceOf(NetlinkAddonError);
    expect((err as NetlinkAddonError).path).to.equal(missing);
    expect((err as NetlinkAddonError).message).to.contain(missing);
  });

  it('closed and dropped sockets give back fds, buffers and wrappers (--expose-gc child)', async function () {
    this.timeout(60_000);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', join(here, 'leak-child.js'), '200'],
      { timeout: 60_000 },
    );
    expect(JSON.parse(stdout.trim())).to.deep.equal({
      opened: 400,
      collected: 400,
      extraFdsAtPeak: 200,
      extraFdsAfterGc: 0,
      buffersAfterClose: 0,
      socketsAfterGc: 0,
      buffersAfterGc: 0,
    });
  });

  it('blocking mode survives a receive overrun too', async () => {
    const conn = openConnection(NETLINK_GENERIC, {
      blocking: true,
      receiveBuffer: 1,
      timeoutMs: 5000,
    });
    try {
      const reqs = Array.from({ length: 400 }, () =>
        genlRequest(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, [str(CTRL_ATTR_FAMILY_NAME, 'nlctrl')]),
      );
      const rs = await conn.batch(reqs, 'every');
      expect(rs.some((r) => !r.ok && r.error instanceof NetlinkRepliesLostError)).to.equal(true);
      expect(conn.overruns).to.be.greaterThan(0);
      expect((await resolveFamily(conn, 'nlctrl')).id).to.equal(GENL_ID_CTRL);
    } finally {
      conn.close();
    }
  });

  it('survives a receive overrun: ENOBUFS becomes NetlinkRepliesLostError, then the socket works', async () => {
    // The smallest receive buffer and 400 replies of ~1 KiB each: the kernel must drop.
    const conn = openConnection(NETLINK_GENERIC, { receiveBuffer: 1, timeoutMs: 5000 });
    try {
      const reqs = Array.from({ length: 400 }, () =>
        genlRequest(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, [str(CTRL_ATTR_FAMILY_NAME, 'nlctrl')]),
      );
      const rs = await conn.batch(reqs, 'every');
      const lost = rs.filter((r) => !r.ok && r.error instanceof NetlinkRepliesLostError);
      expect(lost.length).to.be.greaterThan(0);
      expect(conn.overruns).to.be.greaterThan(0);
      // The next request on the same socket gets its reply.
      const fam = await resolveFamily(conn, 'nlctrl');
      expect(fam.id).to.equal(GENL_ID_CTRL);
    } finally {
      conn.close();
    }
  });

  it('routes an exception thrown by the receive callback to uncaughtException; the process survives', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(here, 'throwing-callback-child.js')],
      {
        timeout: 10_000,
      },
    );
    expect(JSON.parse(stdout.trim())).to.deep.equal({
      caught: 'thrown from the netlink callback',
      received: 2,
    });
  });
});

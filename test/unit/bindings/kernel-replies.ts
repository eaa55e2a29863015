// Real kernel replies recorded by test/kernel/bindings/capture-replies.ts, read from
// test/fixtures/kernel-replies/ (one datagram per hex line), and a fake kernel that
// answers with them: the unit tests decode bytes the kernel wrote, not our writer's.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NLMSG_HDRLEN, align4 } from '../../../bindings/netlink/constants.js';
import { decodeMessages } from '../../../bindings/netlink/message.js';
import type { FakeKernel } from './netlink/fake-socket.js';

// dist/test/unit/bindings → the source tree's test/fixtures.
const dir = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../test/fixtures/kernel-replies',
);

/** The datagrams of one fixture file, in the order the kernel sent them. */
export function kernelReplies(name: string): Buffer[] {
  return readFileSync(join(dir, `${name}.hex`), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => Buffer.from(l, 'hex'));
}

/** A copy with every message's seq and pid (and an error's echoed header) rewritten. */
export function retarget(datagram: Buffer, seq: number, pid: number): Buffer {
  const d = Buffer.from(datagram);
  let off = 0;
  while (off + NLMSG_HDRLEN <= d.length) {
    const len = d.readUInt32LE(off);
    const type = d.readUInt16LE(off + 4);
    d.writeUInt32LE(seq, off + 8);
    d.writeUInt32LE(pid, off + 12);
    // NLMSG_ERROR echoes the request header after the errno.
    if (type === 2 && len >= NLMSG_HDRLEN + 4 + NLMSG_HDRLEN) {
      d.writeUInt32LE(seq, off + NLMSG_HDRLEN + 4 + 8);
      d.writeUInt32LE(pid, off + NLMSG_HDRLEN + 4 + 12);
    }
    off += align4(len);
  }
  return d;
}

/** Answers every request with the fixture's datagrams, addressed to that request. */
export function replayKernel(name: string): FakeKernel {
  const replies = kernelReplies(name);
  return (d, sock) => {
    const [m] = decodeMessages(d);
    return m ? replies.map((r) => retarget(r, m.seq, sock.portId)) : [];
  };
}

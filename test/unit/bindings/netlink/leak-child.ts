// Child process for socket.test.ts, run with --expose-gc: opens many connections (their
// callbacks capture the connection, as the daemon's do), closes half and drops the other
// half unclosed, then collects garbage and reports what came back: file descriptors,
// native allocations (sockets and receive buffers) and collected JS wrappers.
import { readdirSync, readlinkSync } from 'node:fs';
import { NETLINK_GENERIC } from '../../../../bindings/netlink/constants.js';
import { resolveFamily } from '../../../../bindings/netlink/genl.js';
import { openConnection } from '../../../../bindings/netlink/open.js';
import { nativeAllocations } from '../../../../bindings/netlink/socket.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

/** Open socket fds (Node's own pipes and event fds come and go and do not count). */
const fds = (): number =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false; // the directory's own fd, closed by now
    }
  }).length;
let collected = 0;
const registry = new FinalizationRegistry<number>(() => {
  collected++;
});

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 30));
  }
}

const N = Number(process.argv[2] ?? 200);

// In their own functions, so no suspended frame of main() holds the last connection.
async function openAndClose(): Promise<void> {
  // Each makes a round trip first, so its buffer and callback were used.
  for (let i = 0; i < N; i++) {
    const conn = openConnection(NETLINK_GENERIC, { timeoutMs: 5000 });
    await resolveFamily(conn, 'nlctrl');
    registry.register(conn, i);
    conn.close();
  }
}

async function openAndDrop(): Promise<void> {
  // Left unclosed: only the garbage collector can give their fds back.
  for (let i = 0; i < N; i++) {
    const conn = openConnection(NETLINK_GENERIC, { timeoutMs: 5000 });
    await resolveFamily(conn, 'nlctrl');
    registry.register(conn, N + i);
  }
}

async function main(): Promise<void> {
  await settle();
  const fdsBefore = fds();
  const allocBefore = nativeAllocations();
  await openAndClose();
  const closedAlloc = nativeAllocations();
  await openAndDrop();
  const peakFds = fds();
  await settle();
  const after = nativeAllocations();
  process.stdout.write(
    JSON.stringify({
      opened: 2 * N,
      collected,
      extraFdsAtPeak: peakFds - fdsBefore,
      extraFdsAfterGc: fds() - fdsBefore,
      buffersAfterClose: closedAlloc.buffers - allocBefore.buffers,
      socketsAfterGc: after.sockets - allocBefore.sockets,
      buffersAfterGc: after.buffers - allocBefore.buffers,
    }) + '\n',
  );
}

void main();

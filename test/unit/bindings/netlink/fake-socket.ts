// A stand-in for the native socket: records what is sent and answers with datagrams
// built by a test-supplied "kernel" function, asynchronously like the real one.
import { encodeAttrs, str, u32 } from '../../../../bindings/netlink/attributes.js';
import {
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSG_ERROR,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
} from '../../../../bindings/netlink/constants.js';
import { encodeMessages } from '../../../../bindings/netlink/message.js';
import type {
  DatagramCallback,
  DatagramSocket,
  SystemError,
} from '../../../../bindings/netlink/socket.js';

export type FakeKernel = (datagram: Buffer, sock: FakeSocket) => Array<Buffer | SystemError>;

export class FakeSocket implements DatagramSocket {
  readonly portId = 4242;
  readonly sent: Buffer[] = [];
  refd = false;
  closed = false;
  sndbuf = 212_992;
  rcvbuf = 212_992;

  constructor(
    private readonly onDatagram: DatagramCallback,
    protected readonly kernel: FakeKernel,
  ) {}

  send(data: Buffer): void {
    this.sent.push(Buffer.from(data));
    const replies = this.kernel(data, this);
    setImmediate(() => {
      for (const r of replies) {
        if (Buffer.isBuffer(r)) this.onDatagram(null, r);
        else this.onDatagram(r);
      }
    });
  }

  deliver(r: Buffer | SystemError): void {
    if (Buffer.isBuffer(r)) this.onDatagram(null, r);
    else this.onDatagram(r);
  }

  sendBufferSize(): number {
    return this.sndbuf;
  }
  receiveBufferSize(): number {
    return this.rcvbuf;
  }
  setRef(on: boolean): void {
    this.refd = on;
  }
  close(): void {
    this.closed = true;
  }
}

export function sysError(code: string, errno: number, truncated?: boolean): SystemError {
  const e = new Error(`recvmsg: ${code}`) as SystemError;
  e.code = code;
  e.errno = errno;
  e.syscall = 'recvmsg';
  if (truncated) e.truncated = true;
  return e;
}

/** An NLMSG_ERROR datagram (errno 0 = ACK), capped, with optional ext-ack TLVs. */
export function errorReply(
  seq: number,
  pid: number,
  errno: number,
  ext?: { msg?: string; offset?: number },
): Buffer {
  const tlvs = ext
    ? encodeAttrs([
        ...(ext.msg !== undefined ? [str(NLMSGERR_ATTR_MSG, ext.msg)] : []),
        ...(ext.offset !== undefined ? [u32(NLMSGERR_ATTR_OFFS, ext.offset)] : []),
      ])
    : Buffer.alloc(0);
  const p = Buffer.alloc(4 + 16 + tlvs.length);
  p.writeInt32LE(-errno, 0);
  p.writeUInt32LE(16, 4);
  p.writeUInt32LE(seq, 12);
  p.writeUInt32LE(pid, 16);
  tlvs.copy(p, 20);
  return encodeMessages([
    {
      type: NLMSG_ERROR,
      flags: NLM_F_CAPPED | (ext ? NLM_F_ACK_TLVS : 0),
      seq,
      pid,
      payload: p,
    },
  ]);
}

/** The same, read by blocking receive(): replies queue until the connection asks. */
export class FakeBlockingSocket extends FakeSocket {
  readonly queue: Array<Buffer | SystemError> = [];
  receives = 0;

  override send(data: Buffer): void {
    this.sent.push(Buffer.from(data));
    this.queue.push(...this.kernel(data, this));
  }

  /** Each receive() call's arguments, to check how the wait was continued. */
  readonly waits: Array<{ timeoutMs: number; resume: boolean }> = [];

  receive(timeoutMs: number, resume = false): Buffer | null {
    this.receives++;
    this.waits.push({ timeoutMs, resume });
    const r = this.queue.shift();
    if (r === undefined) return null;
    if (Buffer.isBuffer(r)) return r;
    throw r;
  }
}

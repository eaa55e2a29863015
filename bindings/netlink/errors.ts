// Typed failures of the netlink transport. Callers branch on the class, never on text.
import { constants } from 'node:os';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The symbolic name of a positive Linux errno ('EEXIST'), or 'E<number>'. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** Input bytes that are not valid netlink: never trusted, never crash. */
export class NetlinkDecodeError extends Error {
  override readonly name = 'NetlinkDecodeError';
}

/** The kernel answered a request with a negative error code. */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  readonly errno: number;
  readonly code: string;
  /** The kernel's extended-ack text (NLMSGERR_ATTR_MSG), if it gave one. */
  readonly extAck: string | undefined;
  /** Offset of the offending attribute in the request (NLMSGERR_ATTR_OFFS). */
  readonly extAckOffset: number | undefined;
  readonly seq: number;

  constructor(
    errno: number,
    seq: number,
    extAck?: string,
    extAckOffset?: number,
    context?: string,
  ) {
    const code = errnoName(errno);
    const what = context ? `${context}: ` : '';
    super(`${what}${code}${extAck ? ` (${extAck})` : ''}`);
    this.errno = errno;
    this.code = code;
    this.extAck = extAck;
    this.extAckOffset = extAckOffset;
    this.seq = seq;
  }
}

/** No reply in time. */
export class NetlinkTimeoutError extends Error {
  override readonly name = 'NetlinkTimeoutError';
  readonly code = 'ETIMEDOUT';
}

/**
 * The socket overran its receive buffer (ENOBUFS): the kernel applied the requests but
 * dropped replies, so the outcome of every pending request is unknown. Re-dump.
 */
export class NetlinkRepliesLostError extends Error {
  override readonly name = 'NetlinkRepliesLostError';
  readonly code = 'ENOBUFS';
}

/** The socket was closed (or failed) while the request waited. */
export class NetlinkClosedError extends Error {
  override readonly name = 'NetlinkClosedError';
  readonly code = 'ECONNRESET';
}

/** A local send failure (EMSGSIZE, EPERM ...) reported by sendto. */
export class NetlinkSendError extends Error {
  override readonly name = 'NetlinkSendError';
  constructor(
    message: string,
    readonly errno: number,
    readonly code: string,
  ) {
    super(message);
  }
}

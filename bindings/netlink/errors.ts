// Typed failures of the netlink transport. Callers branch on the class, never on text.
import { constants } from 'node:os';
import type { NetlinkMessage } from './message.js';

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

/** The controller knows no generic netlink family of that name (ENOENT). */
export class GenlFamilyNotFoundError extends NetlinkError {
  constructor(
    readonly family: string,
    cause: NetlinkError,
  ) {
    super(cause.errno, cause.seq, cause.extAck, cause.extAckOffset, `CTRL_CMD_GETFAMILY ${family}`);
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

/**
 * A receive failed with an errno other than ENOBUFS (EBADF, ENOMEM ...): the replies
 * of the waiting requests may be lost too.
 */
export class NetlinkReceiveError extends Error {
  override readonly name = 'NetlinkReceiveError';
  constructor(
    message: string,
    readonly errno: number,
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * A datagram was larger than the receive buffer (MSG_TRUNC): the kernel dropped its
 * tail, so replies are lost and the outcome of pending requests is unknown. Re-dump.
 */
export class NetlinkTruncatedError extends Error {
  override readonly name = 'NetlinkTruncatedError';
  readonly code = 'EMSGSIZE';
}

/**
 * A dump ran while its table changed (NLM_F_DUMP_INTR on a reply): it completed, but
 * may have skipped or repeated entries. `replies` holds what it returned; retry for a
 * consistent view (as vishvananda/netlink's ErrDumpInterrupted).
 */
export class NetlinkDumpInterruptedError extends Error {
  override readonly name = 'NetlinkDumpInterruptedError';
  readonly code = 'EINTR';
  constructor(
    message: string,
    readonly replies: NetlinkMessage[],
  ) {
    super(message);
  }
}

/** The native addon could not be loaded (not built, wrong Node ABI, missing file). */
export class NetlinkAddonError extends Error {
  override readonly name = 'NetlinkAddonError';
  readonly code = 'ERR_NETLINK_ADDON';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot load the netlink addon (${path}): ${reason}`);
  }
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

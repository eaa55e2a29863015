// A connection over a real netlink socket, with extended ACKs and capped error replies
// (errors then carry only the request header, so more of them fit the receive buffer).
import { NetlinkConnection, type ConnectionOptions } from './connection.js';
import {
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NetlinkSocket,
  SOL_NETLINK,
  nativeDatagramsPerTurn,
} from './socket.js';

export interface OpenOptions extends ConnectionOptions {
  /** Bytes wanted for SO_RCVBUF(FORCE); Linux doubles it for bookkeeping. */
  receiveBuffer?: number;
  sendBuffer?: number;
  /** Default true. */
  extendedAck?: boolean;
  /** Default true. */
  capAck?: boolean;
  /** Load the native addon from this file instead of build/Release (tests). */
  addonPath?: string;
}

export function openConnection(protocol: number, options: OpenOptions = {}): NetlinkConnection {
  // See DEFAULT_MAX_BATCH_MESSAGES: one batch's replies must be readable in one turn.
  const perTurn = nativeDatagramsPerTurn(options.addonPath);
  if (options.maxBatchMessages !== undefined && options.maxBatchMessages > perTurn) {
    throw new RangeError(
      `netlink: maxBatchMessages ${options.maxBatchMessages} exceeds the addon's ` +
        `MAX_DATAGRAMS_PER_TURN (${perTurn})`,
    );
  }
  return new NetlinkConnection((onDatagram) => {
    const sock = new NetlinkSocket(protocol, onDatagram, 0, !options.blocking, options.addonPath);
    try {
      if (options.extendedAck ?? true) sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1);
      if (options.capAck ?? true) sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1);
      sock.setBufferSizes(options.receiveBuffer, options.sendBuffer);
    } catch (e) {
      sock.close();
      throw e;
    }
    return sock;
  }, options);
}

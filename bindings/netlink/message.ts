// nlmsghdr framing: {len u32, type u16, flags u16, seq u32, pid u32} + payload, each
// message padded to 4 bytes; a datagram carries one or more messages.
import { decodeAttrs } from './attributes.js';
import {
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSG_HDRLEN,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  align4,
} from './constants.js';
import { NetlinkDecodeError } from './errors.js';
import type { PayloadWriter } from './writer.js';

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Buffer;
}

/** A message to send: the payload as bytes, or written in place. */
export interface OutgoingMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Buffer | PayloadWriter;
}

export function messageLength(payloadLength: number): number {
  return align4(NLMSG_HDRLEN + payloadLength);
}

/** Writes one message at `offset`; returns the offset after it (padded). */
export function writeMessage(buf: Buffer, offset: number, m: OutgoingMessage): number {
  const len = NLMSG_HDRLEN + m.payload.length;
  buf.writeUInt32LE(len, offset);
  buf.writeUInt16LE(m.type, offset + 4);
  buf.writeUInt16LE(m.flags, offset + 6);
  buf.writeUInt32LE(m.seq >>> 0, offset + 8);
  buf.writeUInt32LE(m.pid >>> 0, offset + 12);
  if (Buffer.isBuffer(m.payload)) m.payload.copy(buf, offset + NLMSG_HDRLEN);
  else m.payload.write(buf, offset + NLMSG_HDRLEN);
  const end = offset + len;
  const padded = align4(end);
  buf.fill(0, end, padded);
  return padded;
}

/** Frames messages back to back into one datagram. */
export function encodeMessages(messages: readonly OutgoingMessage[]): Buffer {
  let total = 0;
  for (const m of messages) total += messageLength(m.payload.length);
  const buf = Buffer.alloc(total);
  let off = 0;
  for (const m of messages) off = writeMessage(buf, off, m);
  return buf;
}

/** Splits a datagram into messages; payloads are views into `buf`. */
export function decodeMessages(buf: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLMSG_HDRLEN) {
      throw new NetlinkDecodeError(`message header truncated at ${off} of ${buf.length}`);
    }
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || len > buf.length - off) {
      throw new NetlinkDecodeError(`message length ${len} at ${off} exceeds ${buf.length - off}`);
    }
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** The body of an NLMSG_ERROR: errno 0 is an ACK. */
export interface ErrorReply {
  /** Positive errno; 0 for an ACK. */
  errno: number;
  extAck: string | undefined;
  extAckOffset: number | undefined;
}

export function decodeErrorReply(m: NetlinkMessage): ErrorReply {
  const p = m.payload;
  if (p.length < 4 + NLMSG_HDRLEN) {
    throw new NetlinkDecodeError(`NLMSG_ERROR payload of ${p.length} bytes is too short`);
  }
  const error = p.readInt32LE(0);
  let extAck: string | undefined;
  let extAckOffset: number | undefined;
  if (m.flags & NLM_F_ACK_TLVS) {
    // Without NLM_F_CAPPED the kernel echoes the whole request before the TLVs.
    const origLen = p.readUInt32LE(4);
    const tlvStart = 4 + (m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(origLen));
    if (tlvStart > p.length) {
      throw new NetlinkDecodeError(`NLMSG_ERROR TLVs start ${tlvStart} past ${p.length}`);
    }
    for (const a of decodeAttrs(p, tlvStart)) {
      if (a.type === NLMSGERR_ATTR_MSG) {
        const nul = a.data.indexOf(0);
        extAck = a.data.subarray(0, nul < 0 ? a.data.length : nul).toString('utf8');
      } else if (a.type === NLMSGERR_ATTR_OFFS && a.data.length >= 4) {
        extAckOffset = a.data.readUInt32LE(0);
      }
    }
  }
  return { errno: -error, extAck, extAckOffset };
}

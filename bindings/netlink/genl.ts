// Generic netlink: the 4-byte genlmsghdr {cmd u8, version u8, reserved u16} and family
// resolution through the controller (CTRL_CMD_GETFAMILY).
import { AttrMap, type AttrOut, attrsLength, str, writeAttrs } from './attributes.js';
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_VERSION,
  CTRL_CMD_GETFAMILY,
  GENL_HDRLEN,
  GENL_ID_CTRL,
} from './constants.js';
import type { NetlinkConnection, Request } from './connection.js';
import { GenlFamilyNotFoundError, NetlinkDecodeError, NetlinkError } from './errors.js';
import type { NetlinkMessage } from './message.js';
import { type AttrWriter, attrPayload } from './writer.js';

export interface GenlMessage {
  cmd: number;
  version: number;
  attrs: AttrMap;
}

export function genlPayload(cmd: number, version: number, attrs: readonly AttrOut[]): Buffer {
  // Pooled allocation: every byte is written below (header, reserved, attrs, padding).
  const buf = Buffer.allocUnsafe(GENL_HDRLEN + attrsLength(attrs));
  buf.writeUInt8(cmd, 0);
  buf.writeUInt8(version, 1);
  buf.writeUInt16LE(0, 2);
  writeAttrs(buf, GENL_HDRLEN, attrs);
  return buf;
}

/** A genl request whose attributes are written in place by `encode`. */
export function genlWriterRequest(
  family: number,
  cmd: number,
  version: number,
  encode: (w: AttrWriter) => void,
  describe?: () => string,
): Request {
  return {
    type: family,
    payload: attrPayload(
      GENL_HDRLEN,
      (buf, off) => {
        buf.writeUInt8(cmd, off);
        buf.writeUInt8(version, off + 1);
        buf.writeUInt16LE(0, off + 2);
      },
      encode,
    ),
    ...(describe ? { describe } : {}),
  };
}

export function genlRequest(
  family: number,
  cmd: number,
  version: number,
  attrs: readonly AttrOut[],
  describe?: () => string,
): Request {
  return {
    type: family,
    payload: genlPayload(cmd, version, attrs),
    ...(describe ? { describe } : {}),
  };
}

function checkGenlHeader(m: NetlinkMessage): void {
  if (m.payload.length < GENL_HDRLEN) {
    throw new NetlinkDecodeError(`genl payload of ${m.payload.length} bytes has no header`);
  }
}

export function decodeGenl(m: NetlinkMessage): GenlMessage {
  checkGenlHeader(m);
  return {
    cmd: m.payload.readUInt8(0),
    version: m.payload.readUInt8(1),
    attrs: AttrMap.parse(m.payload, GENL_HDRLEN),
  };
}

/**
 * decodeGenl(m).attrs.nested(type) without the map of the top-level attributes: a dump
 * reads one nest per message.
 */
export function genlNested(m: NetlinkMessage, type: number): AttrMap | undefined {
  checkGenlHeader(m);
  return AttrMap.parseNested(m.payload, type, GENL_HDRLEN);
}

export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  maxAttr: number;
}

/** Looks a family up by name; GenlFamilyNotFoundError (a NetlinkError, ENOENT) if unknown. */
export async function resolveFamily(conn: NetlinkConnection, name: string): Promise<GenlFamily> {
  let replies: NetlinkMessage[];
  try {
    replies = await conn.request(
      genlRequest(
        GENL_ID_CTRL,
        CTRL_CMD_GETFAMILY,
        1,
        [str(CTRL_ATTR_FAMILY_NAME, name)],
        () => `CTRL_CMD_GETFAMILY ${name}`,
      ),
    );
  } catch (e) {
    if (e instanceof NetlinkError && e.code === 'ENOENT')
      throw new GenlFamilyNotFoundError(name, e);
    throw e;
  }
  for (const m of replies) {
    if (m.type !== GENL_ID_CTRL) continue;
    const g = decodeGenl(m);
    const id = g.attrs.u16(CTRL_ATTR_FAMILY_ID);
    if (id === undefined) continue;
    return {
      id,
      name: g.attrs.str(CTRL_ATTR_FAMILY_NAME) ?? name,
      version: g.attrs.u32(CTRL_ATTR_VERSION) ?? 0,
      maxAttr: g.attrs.u32(CTRL_ATTR_MAXATTR) ?? 0,
    };
  }
  throw new NetlinkDecodeError(`CTRL_CMD_GETFAMILY ${name}: reply without a family id`);
}

// nf_tables over nfnetlink, pure: the chain dump request and its replies. Only what the
// iptables backend's leftover check reads: which chains exist in which table.
import { AttrMap } from '../netlink/attributes.js';
import type { Request } from '../netlink/connection.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import type { NetlinkMessage } from '../netlink/message.js';
import * as C from './constants.js';

export type NftFamily = typeof C.NFPROTO_IPV4 | typeof C.NFPROTO_IPV6;

export interface NftChain {
  family: number;
  table: string;
  name: string;
}

/** nfgenmsg: the family, NFNETLINK_V0, res_id 0 (the kernel answers with its generation). */
function nfgenmsg(family: number): Buffer {
  const b = Buffer.alloc(C.NFGENMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeUInt8(C.NFNETLINK_V0, 1);
  return b;
}

/** A GETCHAIN dump of every chain of every table of a family (no attribute narrows it). */
export function chainDumpRequest(family: NftFamily): Request {
  return {
    type: C.nftMessageType(C.NFT_MSG_GETCHAIN),
    payload: nfgenmsg(family),
    describe: () => `NFT_MSG_GETCHAIN family ${family}`,
  };
}

/** One NEWCHAIN message of the dump. */
export function decodeChain(m: NetlinkMessage): NftChain {
  if (m.type !== C.nftMessageType(C.NFT_MSG_NEWCHAIN))
    throw new NetlinkDecodeError(`nf_tables: message type ${m.type} is not NFT_MSG_NEWCHAIN`);
  if (m.payload.length < C.NFGENMSG_LEN)
    throw new NetlinkDecodeError(`nf_tables message of ${m.payload.length} bytes has no nfgenmsg`);
  const a = AttrMap.parse(m.payload, C.NFGENMSG_LEN);
  const table = a.str(C.NFTA_CHAIN_TABLE);
  const name = a.str(C.NFTA_CHAIN_NAME);
  if (table === undefined || name === undefined)
    throw new NetlinkDecodeError('nf_tables chain without a table or a name');
  return { family: m.payload.readUInt8(0), table, name };
}

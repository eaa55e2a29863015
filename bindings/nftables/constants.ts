// uapi linux/netfilter/nfnetlink.h and linux/netfilter/nf_tables.h values the nftables
// binding uses; the nfnetlink header's (and the families iptables-nft writes its tables
// in, "ip" and "ip6") are the transport's.
export {
  NETLINK_NETFILTER,
  NFGENMSG_LEN,
  NFNETLINK_V0,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
} from '../netlink/constants.js';
export const NFNL_SUBSYS_NFTABLES = 10;

// enum nf_tables_msg_types.
export const NFT_MSG_NEWCHAIN = 3;
export const NFT_MSG_GETCHAIN = 4;

// enum nft_chain_attributes.
export const NFTA_CHAIN_TABLE = 1;
export const NFTA_CHAIN_HANDLE = 2;
export const NFTA_CHAIN_NAME = 3;

/** The netlink message type of an nf_tables message. */
export function nftMessageType(msg: number): number {
  return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

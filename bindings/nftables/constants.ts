// uapi linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h and linux/netfilter.h
// values the nftables binding uses.
export const NETLINK_NETFILTER = 12;
export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNETLINK_V0 = 0;
/** nfgenmsg length: {family u8, version u8, res_id be16}. */
export const NFGENMSG_LEN = 4;

// enum nf_tables_msg_types.
export const NFT_MSG_NEWCHAIN = 3;
export const NFT_MSG_GETCHAIN = 4;

// enum nft_chain_attributes.
export const NFTA_CHAIN_TABLE = 1;
export const NFTA_CHAIN_HANDLE = 2;
export const NFTA_CHAIN_NAME = 3;

// The families iptables-nft writes its tables in ("ip" and "ip6").
export const NFPROTO_IPV4 = 2;
export const NFPROTO_IPV6 = 10;

/** The netlink message type of an nf_tables message. */
export function nftMessageType(msg: number): number {
  return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

// nf_tables over nfnetlink (NETLINK_NETFILTER, subsystem NFTABLES) on the same socket addon
// as IPVS: reads which chains exist, without an iptables-nft-save process.
import type { NetlinkConnection } from '../netlink/connection.js';
import { type OpenOptions, openConnection } from '../netlink/open.js';
import { type NftChain, type NftFamily, chainDumpRequest, decodeChain } from './codec.js';
import * as C from './constants.js';

export class NftablesClient {
  private constructor(readonly connection: NetlinkConnection) {}

  /** Over a connection that is already open (tests use a fake socket). */
  static fromConnection(connection: NetlinkConnection): NftablesClient {
    return new NftablesClient(connection);
  }

  static open(options: OpenOptions = {}): NftablesClient {
    return new NftablesClient(openConnection(C.NETLINK_NETFILTER, options));
  }

  close(): void {
    this.connection.close();
  }

  /** Every chain of every table of the family. */
  async chains(family: NftFamily): Promise<NftChain[]> {
    const ms = await this.connection.dump(chainDumpRequest(family));
    return ms
      .filter((m) => m.type === C.nftMessageType(C.NFT_MSG_NEWCHAIN))
      .map((m) => decodeChain(m));
  }
}

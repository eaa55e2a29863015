// Where the iptables backend's chains can be, asked of the kernel without a process, so
// that removing them (IPVS start on a node that once fell back, `kube-ipvs cleanup`) runs
// iptables-save only in a flavour that may hold one. Legacy tables are listed by the
// kernel per network namespace; nf_tables chains come from a netlink dump. Whatever
// cannot be told for sure answers "may hold", and the save runs as it always did.
import { commandFlavour, legacyTables } from '../../../bindings/iptables/probe.js';
import {
  iptablesBinary,
  type IptablesFamily,
  type IptablesFlavour,
} from '../../../bindings/iptables/run.js';
import {
  NFPROTO_IPV4,
  NFPROTO_IPV6,
  NftablesClient,
  type NftChain,
} from '../../../bindings/nftables/index.js';

/** The tables our chains live in (the portals and service chains in nat, reject in filter). */
export const OUR_TABLES: ReadonlySet<string> = new Set(['nat', 'filter']);

export interface ChainPlaces {
  /** false only when that flavour surely holds none of our chains. */
  mayHold(family: IptablesFamily, flavour: IptablesFlavour): Promise<boolean>;
  close(): void;
}

/** Legacy may hold our chains only where the namespace has its nat or filter table. */
export function legacyMayHold(tables: ReadonlySet<string> | undefined): boolean {
  return tables === undefined || [...OUR_TABLES].some((t) => tables.has(t));
}

/** nf_tables holds one of ours when a chain of ours sits in its nat or filter table. */
export function nftHolds(chains: readonly NftChain[], isOurs: (chain: string) => boolean): boolean {
  return chains.some((c) => OUR_TABLES.has(c.table) && isOurs(c.name));
}

export interface KernelChainPlacesOptions {
  /** Default: an NftablesClient, opened at the first nf_tables question. */
  nftables?: () => Pick<NftablesClient, 'chains' | 'close'>;
  legacyTables?: (family: IptablesFamily) => ReadonlySet<string> | undefined;
  /** What the default-flavour tool is here (iptables-save can be legacy's). */
  flavourOf?: (command: string) => 'nft' | 'legacy' | undefined;
}

export function kernelChainPlaces(
  isOurs: (chain: string) => boolean,
  options: KernelChainPlacesOptions = {},
): ChainPlaces {
  const openNft = options.nftables ?? (() => NftablesClient.open());
  const tablesOf = options.legacyTables ?? ((f: IptablesFamily) => legacyTables(f));
  const flavourOf = options.flavourOf ?? ((c: string) => commandFlavour(c));
  let nft: Pick<NftablesClient, 'chains' | 'close'> | undefined;
  const nftMayHold = async (family: IptablesFamily): Promise<boolean> => {
    try {
      nft ??= openNft();
      return nftHolds(await nft.chains(family === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6), isOurs);
    } catch {
      return true; // no nf_tables, no permission, a dump cut short: let iptables-save tell
    }
  };
  return {
    async mayHold(family, flavour) {
      const kind =
        flavour === 'legacy' ? 'legacy' : flavourOf(iptablesBinary(family, flavour, 'save'));
      if (kind === 'legacy') return legacyMayHold(tablesOf(family));
      if (kind === 'nft') return nftMayHold(family);
      return true;
    },
    close() {
      nft?.close();
      nft = undefined;
    },
  };
}

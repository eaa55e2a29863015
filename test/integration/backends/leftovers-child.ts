// Runs one scenario of the leftover-chain tests inside a network namespace (the test starts
// this script under `ip netns exec`), counting the processes it spawns. Prints one JSON
// document.
import { NFPROTO_IPV4, NFPROTO_IPV6, NftablesClient } from '../../../bindings/nftables/index.js';
import { IptablesBackend } from '../../../lib/backends/iptables/backend.js';
import { kernelChainPlaces } from '../../../lib/backends/iptables/leftovers.js';
import { watchSpawns } from '../../harness/spawns.js';

const spawned: string[] = [];
watchSpawns((file) => spawned.push(file));

async function places(): Promise<unknown> {
  const nft = NftablesClient.open();
  const chains = {
    ip: await nft.chains(NFPROTO_IPV4),
    ip6: await nft.chains(NFPROTO_IPV6),
  };
  nft.close();
  const p = kernelChainPlaces((c) => c.startsWith('KUBE-IPVS-'));
  const mayHold: Record<string, boolean> = {};
  for (const f of [4, 6] as const)
    for (const fl of ['default', 'legacy'] as const) mayHold[`${f} ${fl}`] = await p.mayHold(f, fl);
  p.close();
  return { chains, mayHold, spawned };
}

async function cleanup(): Promise<unknown> {
  const b = IptablesBackend.forCleanup();
  try {
    return { report: await b.cleanup(), spawned };
  } finally {
    b.close();
  }
}

const scenario = process.argv[2];
const out = scenario === 'places' ? await places() : await cleanup();
process.stdout.write(`${JSON.stringify(out)}\n`);

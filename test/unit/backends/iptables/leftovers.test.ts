// Where the iptables backend's leftover chains can be (leftovers.ts), with the kernel's
// answers played by fakes: a flavour is skipped only when the kernel surely holds none of
// ours there, and anything unsure means iptables-save runs as before. The backend's
// cleanup runs a save only where the places say one may hold our chains.
import { expect } from 'chai';
import type {
  IptablesFamily,
  IptablesFlavour,
  IptablesRunner,
} from '../../../../bindings/iptables/index.js';
import { NFPROTO_IPV4, NFPROTO_IPV6, type NftChain } from '../../../../bindings/nftables/index.js';
import { IptablesBackend } from '../../../../lib/backends/iptables/backend.js';
import {
  kernelChainPlaces,
  legacyMayHold,
  nftHolds,
  type ChainPlaces,
} from '../../../../lib/backends/iptables/leftovers.js';

const ours = (c: string): boolean => c.startsWith('KUBE-IPVS-');
/** Asks nothing: every flavour may hold them (every save runs, as before the kernel was asked). */
const EVERYWHERE: ChainPlaces = { mayHold: async () => true, close: () => undefined };
const chain = (table: string, name: string, family = NFPROTO_IPV4): NftChain => ({
  family,
  table,
  name,
});

describe('backends/iptables leftovers', function () {
  it('legacy may hold ours only where the namespace has its nat or filter table', function () {
    expect(legacyMayHold(new Set())).to.equal(false);
    expect(legacyMayHold(new Set(['mangle', 'raw']))).to.equal(false);
    expect(legacyMayHold(new Set(['nat']))).to.equal(true);
    expect(legacyMayHold(new Set(['filter']))).to.equal(true);
    expect(legacyMayHold(undefined)).to.equal(true);
  });

  it('nf_tables holds ours only as a chain of ours in its nat or filter table', function () {
    expect(nftHolds([], ours)).to.equal(false);
    expect(nftHolds([chain('filter', 'INPUT'), chain('nat', 'OTHER')], ours)).to.equal(false);
    expect(nftHolds([chain('kube-proxy', 'KUBE-IPVS-PORTALS')], ours)).to.equal(false);
    expect(nftHolds([chain('nat', 'KUBE-IPVS-PORTALS')], ours)).to.equal(true);
    expect(nftHolds([chain('filter', 'KUBE-IPVS-REJECT')], ours)).to.equal(true);
  });

  function places(
    opts: {
      chains?: Partial<Record<number, NftChain[]>>;
      nftFails?: boolean;
      legacy?: Partial<Record<IptablesFamily, Set<string> | undefined>>;
      defaultIs?: 'nft' | 'legacy';
    } = {},
  ) {
    const log: string[] = [];
    const p = kernelChainPlaces(ours, {
      nftables: () => {
        log.push('open');
        return {
          chains: async (f) => {
            log.push(`dump ${f}`);
            if (opts.nftFails) throw new Error('EPERM');
            return opts.chains?.[f] ?? [];
          },
          close: () => log.push('close'),
        };
      },
      legacyTables: (f) => {
        log.push(`legacy ${f}`);
        return opts.legacy && f in opts.legacy ? opts.legacy[f] : new Set();
      },
      flavourOf: (command) => {
        log.push(`which ${command}`);
        return opts.defaultIs;
      },
    });
    return { p, log };
  }

  it('the default flavour on iptables-nft asks nf_tables, one socket for both families', async function () {
    const { p, log } = places({
      defaultIs: 'nft',
      chains: { [NFPROTO_IPV6]: [chain('nat', 'KUBE-IPVS-PORTALS', NFPROTO_IPV6)] },
    });
    expect(await p.mayHold(4, 'default')).to.equal(false);
    expect(await p.mayHold(6, 'default')).to.equal(true);
    p.close();
    expect(log).to.deep.equal([
      'which iptables-save',
      'open',
      `dump ${NFPROTO_IPV4}`,
      'which ip6tables-save',
      `dump ${NFPROTO_IPV6}`,
      'close',
    ]);
  });

  it('a failed nf_tables dump, or a tool of unknown flavour, leaves it to iptables-save', async function () {
    expect(await places({ defaultIs: 'nft', nftFails: true }).p.mayHold(4, 'default')).to.equal(
      true,
    );
    const unknown = places({});
    expect(await unknown.p.mayHold(6, 'default')).to.equal(true);
    expect(unknown.log).to.deep.equal(['which ip6tables-save']);
  });

  it('legacy, and a default tool that is legacy, read the kernel list of legacy tables', async function () {
    const { p, log } = places({ defaultIs: 'legacy', legacy: { 4: new Set(['nat']) } });
    expect(await p.mayHold(4, 'legacy')).to.equal(true);
    expect(await p.mayHold(6, 'legacy')).to.equal(false);
    expect(await p.mayHold(6, 'default')).to.equal(false);
    expect(log).to.deep.equal(['legacy 4', 'legacy 6', 'which ip6tables-save', 'legacy 6']);
    expect(await places({ legacy: { 4: undefined } }).p.mayHold(4, 'legacy')).to.equal(true);
  });

  describe('IptablesBackend cleanup', function () {
    const SAVE_WITH_OURS =
      '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-IPVS-PORTALS - [0:0]\n' +
      '-A PREROUTING -j KUBE-IPVS-PORTALS\nCOMMIT\n';

    function backend(where: ChainPlaces) {
      const calls: string[] = [];
      const runner = (f: IptablesFamily, fl: IptablesFlavour): IptablesRunner => ({
        save: async () => {
          calls.push(`save ${f} ${fl}`);
          return SAVE_WITH_OURS;
        },
        restore: async (input) => {
          calls.push(`restore ${f} ${fl} ${input.split('\n').length} lines`);
        },
      });
      let closed = 0;
      const b = IptablesBackend.forCleanup({
        runner,
        chainPlaces: () => ({
          mayHold: (f, fl) => where.mayHold(f, fl),
          close: () => (closed += 1),
        }),
      });
      return { b, calls, closed: () => closed };
    }

    it('runs a save only where the kernel says ours may be, and removes what it finds there', async function () {
      const only = backend({
        mayHold: async (f, fl) => f === 6 && fl === 'legacy',
        close: () => undefined,
      });
      const r = await only.b.cleanup();
      expect(only.calls).to.deep.equal(['save 6 legacy', 'restore 6 legacy 6 lines']);
      expect(r.other).to.deep.equal(['ip6tables-legacy service chains']);
      expect(only.closed()).to.equal(1);
    });

    it('everywhere: the four saves of before, each flavour cleaned', async function () {
      const all = backend(EVERYWHERE);
      const r = await all.b.cleanup();
      expect(all.calls.filter((c) => c.startsWith('save'))).to.deep.equal([
        'save 4 default',
        'save 4 legacy',
        'save 6 default',
        'save 6 legacy',
      ]);
      expect(r.other).to.have.length(4);
    });
  });
});

// Keeps the masquerade rules and ipsets of masquerade.ts in the kernel: on a full sync it
// writes the rules when they differ from what iptables-save shows (start, config change,
// drift) and makes every set's members equal to the desired table's; on a partial sync it
// sends only the members of the virtual servers that changed. Only our chains, our jumps
// and our sets are ever changed.
import { CommandFailed } from '../../../bindings/command.js';
import {
  iptablesName,
  iptablesRunner,
  parseSave,
  type IptablesFamily,
  type IptablesFlavour,
  type IptablesRunner,
} from '../../../bindings/iptables/index.js';
import {
  IpsetClient,
  type IpsetChange,
  type IpsetElements,
  type IpsetOps,
  type IpsetResult,
} from '../../../bindings/ipset/index.js';
import { modprobeAll } from '../../../bindings/modules.js';
import type { VirtualServer, VirtualServerKey } from '../../model/types.js';
import {
  natCleanup,
  natRestore,
  natRuleset,
  SET_ROLES,
  SET_TYPES,
  setName,
  type MasqueradeOptions,
} from './masquerade.js';
import { SetMembership, type MemberChange } from './masquerade-sets.js';

/** What the sync reads of the desired table. */
export interface DesiredView {
  keys(): Iterable<VirtualServerKey>;
  get(key: VirtualServerKey): VirtualServer | undefined;
}

export interface MasqueradeLog {
  info(obj: object, msg: string): void;
  warn?(obj: object, msg: string): void;
}

export interface MasqueradeSyncOptions {
  /** The config in force (a reload changes it; the next full sync applies it). */
  options: () => MasqueradeOptions;
  log?: MasqueradeLog;
  iptables?: (family: IptablesFamily, flavour: IptablesFlavour) => IptablesRunner;
  /** Default: an IpsetClient (nfnetlink), opened at first use. */
  ipset?: IpsetOps;
  /** Loads the netfilter modules once (default: modprobe); tests may pass a no-op. */
  loadModules?: () => Promise<void>;
}

/** Modules the rules need; those loaded or built in already are not asked for. */
export const MASQUERADE_MODULES = [
  'ip_set',
  'ip_set_hash_ipport',
  'ip_set_hash_ipportip',
  'xt_set',
  'xt_mark',
  'xt_comment',
  'xt_MASQUERADE',
  'iptable_nat',
  'ip6table_nat',
] as const;

async function loadMasqueradeModules(): Promise<void> {
  // A module that does not load may be built in; iptables-restore reports what is missing.
  await modprobeAll(MASQUERADE_MODULES);
}

/**
 * Room in each set. The loop-back set holds one entry per endpoint of every virtual
 * server: the kernel's default of 65536 is full at about 6 500 Services of 10 endpoints.
 */
export const SET_MAX_ENTRIES = 1 << 20;

function setSpecs(family: IptablesFamily) {
  return SET_ROLES.map((role) => ({
    name: setName(family, role),
    type: SET_TYPES[role],
    family: family === 4 ? ('inet' as const) : ('inet6' as const),
    maxelem: SET_MAX_ENTRIES,
  }));
}

function changes(c: MemberChange): IpsetChange[] {
  return [
    ...c.del.map((m) => ({ op: 'del' as const, set: m.set, entry: m.entry })),
    ...c.add.map((m) => ({ op: 'add' as const, set: m.set, entry: m.entry })),
  ];
}

/** Throws the first failure of these results, counting the rest. */
function checkResults(rs: readonly IpsetResult[]): void {
  let failed = 0;
  let first: Error | undefined;
  for (const r of rs)
    if (!r.ok) {
      failed++;
      first ??= r.error;
    }
  if (first)
    throw new Error(`${failed} of ${rs.length} ipset changes failed, the first: ${first.message}`);
}

/** Sends the changes; throws the first failure, counting the rest. */
async function applyAll(ipset: IpsetOps, cs: readonly IpsetChange[]): Promise<void> {
  if (cs.length > 0) checkResults(await ipset.change(cs));
}

/** The same for elements given as values. */
async function applyElements(ipset: IpsetOps, batches: readonly IpsetElements[]): Promise<void> {
  if (batches.some((b) => b.count > 0)) checkResults(await ipset.changeElements(batches));
}

export class MasqueradeSync {
  private members = new SetMembership();
  private readonly flavours = new Map<IptablesFamily, IptablesFlavour>();
  /** Families whose sets and rules were written by this process. */
  private readonly ready = new Set<IptablesFamily>();
  private modulesLoaded = false;
  /** Set members were compared with the kernel's in full at least once. */
  private verified = false;
  /** ipset changes of partial syncs not yet sent. */
  private pending: IpsetChange[] = [];
  private flushing: Promise<void> | undefined;
  private client: IpsetClient | undefined;
  private readonly iptables: (f: IptablesFamily, fl: IptablesFlavour) => IptablesRunner;

  constructor(private readonly opts: MasqueradeSyncOptions) {
    this.iptables = opts.iptables ?? ((f, fl) => iptablesRunner(f, fl));
  }

  /** The given ipset, or our nfnetlink client (its socket needs the modules loaded first). */
  private get ipset(): IpsetOps {
    if (this.opts.ipset) return this.opts.ipset;
    this.client ??= IpsetClient.open();
    return this.client;
  }

  /** Closes the ipset socket, if one was opened. */
  close(): void {
    this.client?.close();
    this.client = undefined;
  }

  private async modules(): Promise<void> {
    if (this.modulesLoaded) return;
    this.modulesLoaded = true;
    await (this.opts.loadModules ?? loadMasqueradeModules)();
  }

  /** Families to program: IPv4 always, IPv6 once anything of it is wanted. */
  private families(): IptablesFamily[] {
    const o = this.opts.options();
    const six = this.members.families().has(6) || o.clusterCIDR.some((c) => c.includes(':'));
    return six ? [4, 6] : [4];
  }

  /** Creates the family's sets (no-op when they exist) and writes its rules if they differ. */
  private async ensureFamily(family: IptablesFamily): Promise<void> {
    await this.modules();
    for (const spec of setSpecs(family)) await this.ipset.create(spec);
    const want = natRuleset(family, this.opts.options());
    const write = async (fl: IptablesFlavour): Promise<void> => {
      const r = this.iptables(family, fl);
      const input = natRestore(want, parseSave(await r.save('nat'), 'nat'));
      if (input !== '') {
        await r.restore(input);
        this.opts.log?.info({ family: `IPv${family}`, flavour: fl }, 'masquerade rules written');
      }
    };
    const known = this.flavours.get(family);
    if (known !== undefined) await write(known);
    else {
      try {
        await write('default');
        this.flavours.set(family, 'default');
      } catch (e) {
        // A kernel without nftables NAT refuses iptables-nft's nat table; legacy works there.
        try {
          await write('legacy');
        } catch {
          throw e;
        }
        this.flavours.set(family, 'legacy');
        // iptables-restore's first line only names itself ("iptables-restore v1.8.9
        // (nf_tables): "); the first reason follows it, and the rest repeat it per line.
        const why =
          e instanceof CommandFailed
            ? e.stderr
                .split('\n')
                .map((l) => l.trim())
                .filter((l) => l !== '')
                .slice(0, 2)
                .join(' ')
            : undefined;
        this.opts.log?.info(
          { family: `IPv${family}`, reason: why ?? String(e) },
          'iptables: the default binaries failed, using iptables-legacy',
        );
      }
    }
    this.ready.add(family);
  }

  /** Rules (when they differ) and every member, against the kernel. */
  async full(table: DesiredView): Promise<void> {
    // Queued member changes are superseded: the members are compared with the kernel here.
    await this.settled();
    this.pending = [];
    // Brought up to date in place: a virtual server whose members did not change costs a
    // comparison, not a rebuild.
    const members = this.members;
    for (const k of [...members.keys()]) if (table.get(k) === undefined) members.set(k, undefined);
    for (const k of table.keys()) members.set(k, table.get(k));
    const families = this.families();
    for (const f of families) await this.ensureFamily(f);
    const sets = families.flatMap((f) => SET_ROLES.map((r) => setName(f, r)));
    // Reading every member back costs about a second at 100 000 entries, so after the
    // first full sync a resync compares the sets' sizes and reads members only when a
    // size differs (an entry added or removed by hand).
    if (this.verified) {
      const counts = await this.ipset.counts(sets);
      if (sets.every((set) => counts.get(set) === members.size(set))) return;
    }
    const kernel = await this.ipset.members(sets);
    const diffs = families.flatMap((f) =>
      SET_ROLES.map((r) => members.diff(f, r, kernel.get(setName(f, r)))),
    );
    // Deletions first, as changes() orders them: room in a full set before new members.
    await applyElements(this.ipset, [...diffs.map((d) => d.del), ...diffs.map((d) => d.add)]);
    this.verified = true;
  }

  /**
   * Only the members of these virtual servers, against what was last sent. Queued, not
   * awaited: the IPVS change of the same sync need not wait for the ipset round trip.
   * Changes that arrive while one is in flight go out together in the next. A new entry
   * point may so work a moment before its mark; a failure is logged and the next full
   * sync, which compares with the kernel, repairs it.
   */
  partial(table: DesiredView, keys: Iterable<VirtualServerKey>): Promise<void> {
    for (const k of keys) this.pending.push(...changes(this.members.update(k, table.get(k))));
    if (this.pending.length > 0 && !this.flushing) this.flushing = this.flush();
    return Promise.resolve();
  }

  /** Resolves when the queued member changes have been sent (or have failed). */
  async settled(): Promise<void> {
    await this.flushing;
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        try {
          for (const f of this.families()) if (!this.ready.has(f)) await this.ensureFamily(f);
          await applyAll(this.ipset, batch);
        } catch (e) {
          this.opts.log?.warn?.(
            { error: e instanceof Error ? e.message : String(e) },
            'updating the masquerade ipsets failed; the next full sync repairs them',
          );
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Removes our jumps and chains (both families, both flavours), then our sets. */
  async cleanup(): Promise<string[]> {
    const removed: string[] = [];
    for (const f of [4, 6] as const)
      for (const fl of ['default', 'legacy'] as const) {
        let r: IptablesRunner;
        let saved: string;
        try {
          r = this.iptables(f, fl);
          saved = await r.save('nat');
        } catch {
          continue; // no such binary, or no nat table for this family: nothing of ours there
        }
        const input = natCleanup(parseSave(saved, 'nat'));
        if (input === '') continue;
        await r.restore(input);
        removed.push(`${iptablesName(f, fl)} chains`);
      }
    let names: string[];
    try {
      names = await this.ipset.names();
    } catch {
      return removed; // no ip_set module (nothing answers the ipset subsystem): no sets
    }
    const ours = [4, 6].flatMap((f) => SET_ROLES.map((r) => setName(f as IptablesFamily, r)));
    const present = ours.filter((n) => names.includes(n));
    for (const n of present) await this.ipset.flush(n);
    for (const n of present) await this.ipset.destroy(n);
    if (present.length > 0)
      removed.push(`${present.length} ${present.length === 1 ? 'ipset' : 'ipsets'}`);
    return removed;
  }
}

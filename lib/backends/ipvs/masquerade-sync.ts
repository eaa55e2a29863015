// Keeps the masquerade rules and ipsets of masquerade.ts in the kernel: on a full sync it
// writes the rules when they differ from what iptables-save shows (start, config change,
// drift) and makes every set's members equal to the desired table's; on a partial sync it
// sends only the members of the virtual servers that changed. Only our chains, our jumps
// and our sets are ever changed.
import { CommandFailed } from '../../../bindings/command.js';
import {
  iptablesRunner,
  parseSave,
  type IptablesFamily,
  type IptablesFlavour,
  type IptablesRunner,
} from '../../../bindings/iptables/index.js';
import {
  addLine,
  createLine,
  delLine,
  destroyLine,
  flushLine,
  ipsetRunner,
  parseIpsetSave,
  type IpsetRunner,
} from '../../../bindings/ipset/index.js';
import { modprobe } from '../../../bindings/modules.js';
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
import { SetMembership, diffMembers, type MemberChange } from './masquerade-sets.js';

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
  ipset?: IpsetRunner;
  /** Loads the netfilter modules once (default: modprobe); tests may pass a no-op. */
  loadModules?: () => Promise<void>;
}

/** Modules the rules need; built-in ones make modprobe a no-op. */
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

async function modprobeAll(): Promise<void> {
  // A module that does not load may be built in; iptables-restore reports what is missing.
  for (const m of MASQUERADE_MODULES) await modprobe(m);
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

function changeLines(c: MemberChange): string[] {
  return [
    ...c.del.map((m) => delLine(m.set, m.entry)),
    ...c.add.map((m) => addLine(m.set, m.entry)),
  ];
}

export class MasqueradeSync {
  private members = new SetMembership();
  private readonly flavours = new Map<IptablesFamily, IptablesFlavour>();
  /** Families whose sets and rules were written by this process. */
  private readonly ready = new Set<IptablesFamily>();
  private modulesLoaded = false;
  /** Set members were compared with the kernel's in full at least once. */
  private verified = false;
  /** ipset lines of partial syncs not yet sent. */
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;
  private readonly ipset: IpsetRunner;
  private readonly iptables: (f: IptablesFamily, fl: IptablesFlavour) => IptablesRunner;

  constructor(private readonly opts: MasqueradeSyncOptions) {
    this.ipset = opts.ipset ?? ipsetRunner();
    this.iptables = opts.iptables ?? ((f, fl) => iptablesRunner(f, fl));
  }

  private async modules(): Promise<void> {
    if (this.modulesLoaded) return;
    this.modulesLoaded = true;
    await (this.opts.loadModules ?? modprobeAll)();
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
    await this.ipset.restore(
      `${setSpecs(family)
        .map((s) => `${createLine(s)}`)
        .join('\n')}\n`,
    );
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
    const members = new SetMembership();
    for (const k of table.keys()) members.update(k, table.get(k));
    this.members = members;
    const families = this.families();
    for (const f of families) await this.ensureFamily(f);
    const wanted = new Map(
      [...members.wanted()].filter(([set]) =>
        families.some((f) => SET_ROLES.some((r) => setName(f, r) === set)),
      ),
    );
    // Reading every member back (`ipset save`) costs seconds at 100 000 entries, so after
    // the first full sync a resync compares the sets' sizes and reads members only when a
    // size differs (an entry added or removed by hand).
    if (this.verified) {
      const counts = await this.ipset.counts([...wanted.keys()]);
      if ([...wanted].every(([set, m]) => counts.get(set) === m.size)) return;
    }
    const kernel = parseIpsetSave(await this.ipset.save([...wanted.keys()]));
    const lines = changeLines(diffMembers(wanted, kernel));
    if (lines.length > 0) await this.ipset.restore(`${lines.join('\n')}\n`);
    this.verified = true;
  }

  /**
   * Only the members of these virtual servers, against what was last sent. Queued, not
   * awaited: an `ipset restore` is a process, tens of milliseconds under load, and a sync
   * per endpoint change must not wait for one. Changes that arrive while one runs go out
   * together in the next. A new entry point may so work a few milliseconds before its
   * mark; a failure is logged and the next full sync, which compares with the kernel,
   * repairs it.
   */
  partial(table: DesiredView, keys: Iterable<VirtualServerKey>): Promise<void> {
    for (const k of keys) this.pending.push(...changeLines(this.members.update(k, table.get(k))));
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
        const lines = this.pending.splice(0);
        try {
          for (const f of this.families()) if (!this.ready.has(f)) await this.ensureFamily(f);
          await this.ipset.restore(`${lines.join('\n')}\n`);
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
        removed.push(
          `${f === 4 ? 'iptables' : 'ip6tables'}${fl === 'legacy' ? '-legacy' : ''} chains`,
        );
      }
    let names: string[];
    try {
      names = await this.ipset.names();
    } catch {
      return removed; // no ipset tool or no ip_set module: no sets
    }
    const ours = [4, 6].flatMap((f) => SET_ROLES.map((r) => setName(f as IptablesFamily, r)));
    const present = ours.filter((n) => names.includes(n));
    if (present.length > 0) {
      await this.ipset.restore(
        `${[...present.map(flushLine), ...present.map(destroyLine)].join('\n')}\n`,
      );
      removed.push(`${present.length} ${present.length === 1 ? 'ipset' : 'ipsets'}`);
    }
    return removed;
  }
}

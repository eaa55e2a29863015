// The iptables data plane, for nodes without IPVS. It takes the same IPVS-shaped
// operations as the IPVS backend, keeps what it wrote per virtual server, and turns each
// sync into one iptables-restore --noflush per family holding only the chains of the
// virtual servers that changed (restore.ts). observe() reads iptables-save back through
// the comment contract (read.ts), so the reconcile diff repairs drift. Virtual addresses
// need no binding (DNAT happens before routing), so no dummy interface is used and the
// bind/unbind operations change nothing (see observe for the addresses reported).
//
// A removed real server's rules go at once: new connections stop reaching it, and
// established ones keep flowing through their conntrack entries (nat rules only see a
// connection's first packet). UDP flows to it are deleted from conntrack, as with IPVS.
import { forgetRemovedUdpFlows } from '../udp-flows.js';
import { CommandFailed } from '../../../bindings/command.js';
import {
  iptablesName,
  iptablesRunner,
  iptablesVariant,
  parseSave,
  type IptablesFamily,
  type IptablesFlavour,
  type IptablesRunner,
} from '../../../bindings/iptables/index.js';
import type { IpvsServiceId } from '../../../bindings/ipvs/codec.js';
import { RtnlClient } from '../../../bindings/rtnl/client.js';
import { IFF_LOOPBACK } from '../../../bindings/rtnl/constants.js';
import { modprobeAll } from '../../../bindings/modules.js';
import type { VirtualServerKey } from '../../model/types.js';
import type { Op } from '../../reconcile/diff.js';
import { recordOp } from '../../reconcile/observed.js';
import type { Backend, CleanupReport, ObservedState, OpResult } from '../backend.js';
import type { IpvsEntry } from '../ipvs/convert.js';
import { nodeAddress } from '../ipvs/backend.js';
import { ipvsServiceKey } from '../ipvs/key.js';
import { kernelChainPlaces, type ChainPlaces } from './leftovers.js';
import { readTables, virtualAddresses, type Base, type Installed } from './read.js';
import { cleanupInput, installedOf, restoreInput, type Change } from './restore.js';
import { CHAINS, SEP_PREFIX, SVC_PREFIX, familyOf, schedulerMapping } from './rules.js';

export interface IptablesBackendOptions {
  /** Told once per virtual server and scheduler that is only approximated, and side failures. */
  warn?: (message: string) => void;
  /** Told which iptables is in use. */
  info?: (message: string) => void;
  runner?: (family: IptablesFamily, flavour: IptablesFlavour) => IptablesRunner;
  /** Where cleanup looks for our chains (default: asks the kernel, kernelChainPlaces). */
  chainPlaces?: (isOurs: (chain: string) => boolean) => ChainPlaces;
}

/** Modules the rules need; one loaded or built in already is not asked for. */
export const IPTABLES_MODULES = [
  'iptable_nat',
  'ip6table_nat',
  'iptable_filter',
  'ip6table_filter',
  'xt_comment',
  'xt_statistic',
  'xt_recent',
  'xt_HMARK',
  'xt_mark',
  'xt_conntrack',
  'xt_REJECT',
  'ip6t_REJECT',
  'ipt_REJECT',
] as const;

const FAMILIES: readonly IptablesFamily[] = [4, 6];

function isOurs(chain: string): boolean {
  return (
    chain === CHAINS.portals ||
    chain === CHAINS.reject ||
    chain.startsWith(SVC_PREFIX) ||
    chain.startsWith(SEP_PREFIX)
  );
}

function errorOf(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export class IptablesBackend implements Backend {
  readonly mode = 'iptables' as const;
  readonly countsConnections = false;
  /** What is installed per virtual server, as last written or read. */
  private readonly installed = new Map<VirtualServerKey, Installed>();
  private readonly base = new Map<IptablesFamily, Base | undefined>();
  private readonly orphans = new Map<IptablesFamily, string[]>();
  private readonly flavours = new Map<IptablesFamily, IptablesFlavour>();
  private readonly warned = new Set<string>();
  private readonly runner: (f: IptablesFamily, fl: IptablesFlavour) => IptablesRunner;

  private constructor(
    private readonly rtnl: RtnlClient | undefined,
    private readonly options: IptablesBackendOptions,
  ) {
    this.runner = options.runner ?? ((f, fl) => iptablesRunner(f, fl));
  }

  static async open(options: IptablesBackendOptions = {}): Promise<IptablesBackend> {
    // A module that does not load may be built in; iptables-restore reports what is missing.
    await modprobeAll(IPTABLES_MODULES);
    const variant = await iptablesVariant();
    options.info?.(`iptables backend: the iptables command is ${variant ?? 'unknown'}`);
    return new IptablesBackend(RtnlClient.open(), options);
  }

  /**
   * Only to remove what an earlier run left (a node that has IPVS again): it loads no
   * module and opens no rtnetlink socket, since a node without leftovers needs neither.
   */
  static forCleanup(options: IptablesBackendOptions = {}): IptablesBackend {
    return new IptablesBackend(undefined, options);
  }

  close(): void {
    this.rtnl?.close();
  }

  private async nodeAddresses(): Promise<string[]> {
    if (!this.rtnl) return [];
    const links = await this.rtnl.links();
    const loopbacks = new Set(links.filter((l) => l.flags & IFF_LOOPBACK).map((l) => l.index));
    return (await this.rtnl.addresses())
      .filter((a) => nodeAddress(a, loopbacks))
      .map((a) => a.address);
  }

  /**
   * Every table of a family in one iptables-save (nat and filter are parsed from it), in
   * the flavour holding our chains (known, else found).
   */
  private async save(family: IptablesFamily): Promise<string> {
    const read = (fl: IptablesFlavour) => this.runner(family, fl).save();
    const known = this.flavours.get(family);
    if (known !== undefined) return read(known);
    const first = await read('default');
    if (first.includes(CHAINS.portals)) {
      this.flavours.set(family, 'default');
      return first;
    }
    // After a restart on a kernel where only legacy works, our chains are there.
    const legacy = await read('legacy').catch(() => undefined);
    if (legacy?.includes(CHAINS.portals)) {
      this.flavours.set(family, 'legacy');
      return legacy;
    }
    return first;
  }

  private async readFamily(family: IptablesFamily) {
    const saved = await this.save(family);
    return readTables(family, parseSave(saved, 'nat'), parseSave(saved, 'filter'));
  }

  async observe(): Promise<ObservedState> {
    const entries = new Map<VirtualServerKey, IpvsEntry>();
    this.installed.clear();
    for (const f of FAMILIES) {
      const r = await this.readFamily(f);
      this.base.set(f, r.base);
      this.orphans.set(f, r.orphans);
      for (const [k, i] of r.services) {
        this.installed.set(k, i);
        entries.set(k, i.entry);
      }
    }
    const nodeAddresses = await this.nodeAddresses();
    return { entries, addresses: virtualAddresses(entries, nodeAddresses), nodeAddresses };
  }

  async observeServices(ids: readonly IpvsServiceId[]): Promise<Map<VirtualServerKey, IpvsEntry>> {
    const out = new Map<VirtualServerKey, IpvsEntry>();
    const families = new Set(ids.map((id) => familyOf(id)));
    for (const f of families) {
      const r = await this.readFamily(f);
      this.base.set(f, r.base);
      for (const id of ids) {
        const k = ipvsServiceKey(id);
        if (!k || familyOf(id) !== f) continue;
        const i = r.services.get(k);
        if (i) {
          this.installed.set(k, i);
          out.set(k, i.entry);
        } else this.installed.delete(k);
      }
    }
    return out;
  }

  /** One restore in the family's flavour; the first ever falls back to legacy. */
  private async restore(family: IptablesFamily, input: string): Promise<void> {
    const known = this.flavours.get(family);
    if (known !== undefined) {
      await this.runner(family, known).restore(input);
      return;
    }
    try {
      await this.runner(family, 'default').restore(input);
      this.flavours.set(family, 'default');
    } catch (e) {
      // A kernel without nftables NAT refuses iptables-nft's nat table (as in masquerade-sync).
      try {
        await this.runner(family, 'legacy').restore(input);
      } catch {
        throw e;
      }
      this.flavours.set(family, 'legacy');
      this.options.info?.(`iptables backend: IPv${family} uses iptables-legacy`);
    }
  }

  async apply(ops: readonly Op[]): Promise<OpResult[]> {
    const results = new Array<OpResult>(ops.length);
    // Per virtual server: its ops (indexes) and its table entry after them.
    const byKey = new Map<VirtualServerKey, number[]>();
    ops.forEach((o, i) => {
      if (o.op === 'bindAddress' || o.op === 'unbindAddress') {
        results[i] = { ok: true };
        return;
      }
      const k = ipvsServiceKey(o.service);
      if (!k) {
        results[i] = { ok: false, error: new Error('only TCP, UDP and SCTP virtual servers') };
        return;
      }
      byKey.set(k, [...(byKey.get(k) ?? []), i]);
    });
    const plans = new Map<
      IptablesFamily,
      Array<{ key: VirtualServerKey; change: Change; at: number[] }>
    >();
    for (const [key, at] of byKey) {
      const before = this.installed.get(key);
      const table = new Map<VirtualServerKey, IpvsEntry>();
      if (before) table.set(key, before.entry);
      for (const i of at) recordOp(table, new Set(), ops[i] as Op);
      const after = table.get(key);
      const family = familyOf((ops[at[0] as number] as Extract<Op, { service: unknown }>).service);
      const list = plans.get(family) ?? [];
      list.push({ key, change: { before, after }, at });
      plans.set(family, list);
      if (after) this.warnApproximated(key, after);
    }
    for (const [family, list] of plans) {
      const done = await this.write(
        family,
        list.map((p) => p.change),
      );
      if (done === true) {
        for (const p of list) this.commit(p.key, p.change, p.at, results);
        continue;
      }
      // One at a time, so one virtual server's refusal does not fail the others'.
      for (const p of list) {
        const one = await this.write(family, [p.change]);
        if (one === true) this.commit(p.key, p.change, p.at, results);
        else for (const i of p.at) results[i] = { ok: false, error: one };
      }
    }
    await forgetRemovedUdpFlows(ops, results, this.options.warn);
    return results;
  }

  /** Writes changes (with the family's base repairs and orphans); true or the error. */
  private async write(family: IptablesFamily, changes: readonly Change[]): Promise<true | Error> {
    const input = restoreInput(changes, this.base.get(family), this.orphans.get(family));
    if (input === '') return true;
    try {
      await this.restore(family, input);
      // The base was written with them (restoreInput adds it with any virtual server).
      if (changes.some((c) => c.after !== undefined)) this.base.set(family, undefined);
      this.orphans.set(family, []);
      return true;
    } catch (e) {
      return errorOf(e);
    }
  }

  private commit(key: VirtualServerKey, change: Change, at: number[], results: OpResult[]): void {
    if (change.after) this.installed.set(key, installedOf(change.after));
    else this.installed.delete(key);
    for (const i of at) results[i] = { ok: true };
  }

  private warnApproximated(key: VirtualServerKey, e: IpvsEntry): void {
    const s = e.service.scheduler;
    if (schedulerMapping(s).exact || this.warned.has(`${key} ${s}`)) return;
    this.warned.add(`${key} ${s}`);
    this.options.warn?.(
      `virtual server ${key}: the ${s} scheduler is approximated by the iptables backend ` +
        `(${schedulerMapping(s).mapping === 'random' ? 'random choice, by weight' : 'a hash of the source address'})`,
    );
  }

  async cleanup(): Promise<CleanupReport> {
    let virtualServers = 0;
    const other: string[] = [];
    const places = (this.options.chainPlaces ?? ((o) => kernelChainPlaces(o)))(isOurs);
    try {
      for (const f of FAMILIES)
        for (const fl of ['default', 'legacy'] as const) {
          // Most starts find nothing: the kernel says so without an iptables-save process.
          if (!(await places.mayHold(f, fl))) continue;
          const removed = await this.cleanupFlavour(f, fl);
          if (removed === undefined) continue;
          virtualServers += removed;
          other.push(`${iptablesName(f, fl)} service chains`);
        }
    } finally {
      places.close();
    }
    this.installed.clear();
    return { virtualServers, addresses: 0, other };
  }

  /** Removes our chains from one family and flavour: how many virtual servers, or undefined if none. */
  private async cleanupFlavour(
    f: IptablesFamily,
    fl: IptablesFlavour,
  ): Promise<number | undefined> {
    let all: string;
    const r = this.runner(f, fl);
    try {
      // Both tables in one process; a table the kernel does not have is not listed.
      all = await r.save();
    } catch {
      return undefined; // no such binary: nothing of ours there
    }
    const n = parseSave(all, 'nat');
    const t = parseSave(all, 'filter');
    const input = cleanupInput(n, t, isOurs);
    if (input === '') return undefined;
    try {
      await r.restore(input);
    } catch (e) {
      throw e instanceof CommandFailed ? new Error(e.message) : e;
    }
    return readTables(f, n, t).services.size;
  }
}

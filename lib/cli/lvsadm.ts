// lvsadm: ipvsadm-compatible, read-only view of the IPVS table kube-ipvs programs (or,
// on a node without IPVS, of the iptables backend's chains read as that table).

import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { AF_INET6, type AddressFamily } from '../../bindings/ipvs/types.js';
import { formatConnections } from './format/conn.js';
import { inetBytes } from './format/inet.js';
import { formatList, formatListService, type ListFormat } from './format/list.js';
import { formatDaemons, formatTimeout, IPVSADM_VERSION_LINE } from './format/misc.js';
import { NO_NAMES, type NameResolver } from './format/names.js';
import { formatSave } from './format/save.js';
import type { Snapshot, SnapshotEntry } from './format/snapshot.js';
import { sortEntries } from './format/sort.js';
import { formatUsage } from './format/usage.js';
import { parseArgs, type ArgResolver, type ListRequest, type ServiceKey } from './lvsadm/parse.js';
import { classifyOpenFailure, kernelSource, type SnapshotSource } from './lvsadm/source.js';
import { iptablesSource } from './lvsadm/iptables-source.js';
import { runProgram } from './process.js';
import { ownerSuffix, ownersPath, readOwnerMap, type OwnersRead } from '../owners/index.js';
import { systemArgResolver, systemNameResolver } from './lvsadm/system-names.js';

export interface LvsadmResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface LvsadmDeps {
  openSource(): Promise<SnapshotSource>;
  argNames: ArgResolver;
  /** Build a resolver for the addresses a non-numeric listing will print. */
  names(
    addresses: ReadonlyArray<{ family: AddressFamily; address: string }>,
  ): Promise<NameResolver>;
  /** Load ip_vs as ipvsadm does when the IPVS family is missing. */
  modprobe(): Promise<{ ok: boolean; stderr: string }>;
  /** The owner map kube-ipvs writes (--k8s). */
  readOwners(): Promise<OwnersRead>;
  /**
   * Without the IPVS family: the iptables backend's chains read as the IPVS table, or
   * undefined when the node has none (then lvsadm goes on as ipvsadm does).
   */
  fallbackSource?(): Promise<SnapshotSource | undefined>;
}

function modprobeIpvs(): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/sbin/modprobe', ['--', 'ip_vs'], { timeout: 30000 }, (err, _out, stderr) => {
      resolve({ ok: !err, stderr: String(stderr) });
    });
  });
}

export const systemDeps: LvsadmDeps = {
  openSource: kernelSource,
  argNames: systemArgResolver(),
  names: systemNameResolver,
  modprobe: modprobeIpvs,
  readOwners: () => readOwnerMap(ownersPath()),
  fallbackSource: () => iptablesSource(),
};

const INIT_FAILURE =
  "Can't initialize ipvs: Protocol not available\n" +
  'Are you sure that IP Virtual Server is built in the kernel or as module?\n';

function sameAddress(family: AddressFamily, a: string, b: string): boolean {
  try {
    return Buffer.from(inetBytes(family, a)).equals(Buffer.from(inetBytes(family, b)));
  } catch {
    return false;
  }
}

/** The kernel's service lookup for IPVS_CMD_GET_SERVICE. */
export function findService(snap: Snapshot, key: ServiceKey): SnapshotEntry | null {
  for (const e of snap.services) {
    const s = e.service;
    if (s.family !== key.family) continue;
    if (key.fwmark) {
      if (s.fwmark === key.fwmark) return e;
      continue;
    }
    if (s.fwmark) continue;
    if (
      s.protocol === key.protocol &&
      s.port === key.port &&
      sameAddress(s.family, s.address, key.address)
    ) {
      return e;
    }
  }
  return null;
}

function addressesOf(
  entries: readonly SnapshotEntry[],
): Array<{ family: AddressFamily; address: string }> {
  const out: Array<{ family: AddressFamily; address: string }> = [];
  for (const e of entries) {
    if (!e.service.fwmark) out.push({ family: e.service.family, address: e.service.address });
    for (const d of e.destinations) out.push({ family: d.family, address: d.address });
  }
  return out;
}

function connAddresses(text: string): Array<{ family: AddressFamily; address: string }> {
  const out: Array<{ family: AddressFamily; address: string }> = [];
  for (const line of text.split('\n').slice(1)) {
    const t = line.trim().split(/\s+/);
    for (const i of [1, 3, 5]) {
      const w = t[i];
      if (!w) continue;
      if (w.includes(':')) out.push({ family: AF_INET6, address: w });
      else if (/^[0-9A-Fa-f]{8}$/.test(w)) {
        const n = parseInt(w, 16);
        out.push({
          family: 2,
          address: `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`,
        });
      }
    }
  }
  return out;
}

async function list(
  program: string,
  req: ListRequest,
  source: SnapshotSource,
  deps: LvsadmDeps,
): Promise<LvsadmResult> {
  let note = '';
  const ok = (stdout: string): LvsadmResult => ({ stdout, stderr: note, code: 0 });
  if (req.what === 'connections') {
    const text = await source.connections();
    if (text === null) {
      return { stdout: '', stderr: 'cannot open file /proc/net/ip_vs_conn\n', code: 1 };
    }
    const resolver = req.numeric ? NO_NAMES : await deps.names(connAddresses(text));
    const out = formatConnections(text, {
      numeric: req.numeric,
      persistentConn: req.persistentConn,
      resolver,
    });
    if (out === null) {
      return { stdout: '', stderr: 'unexpected input from /proc/net/ip_vs_conn\n', code: 1 };
    }
    return ok(out);
  }
  const snap = await source.snapshot({ stats: req.stats || req.rate });
  if (req.what === 'timeout') return ok(formatTimeout(snap.timeouts));
  if (req.what === 'daemon') return ok(formatDaemons(snap.daemons));
  const fmt: ListFormat = {
    numeric: req.numeric,
    stats: req.stats,
    rate: req.rate,
    thresholds: req.thresholds,
    persistentConn: req.persistentConn,
    tunInfo: req.tunInfo,
    exact: req.exact,
    nosort: req.nosort,
  };
  if (req.k8s) {
    // Without the map the listing is still worth having: plain, and one line saying why.
    const owners = await deps.readOwners();
    if (owners.ok) fmt.annotate = (s) => ownerSuffix(owners.map, s);
    else note = `${program}: --k8s: no owners shown: ${owners.reason}\n`;
  }
  if (req.what === 'service') {
    const entry = req.service ? findService(snap, req.service) : null;
    if (!entry) return { stdout: '', stderr: 'No such service\n', code: 1 };
    if (!req.numeric) fmt.resolver = await deps.names(addressesOf([entry]));
    return ok(formatListService(entry, fmt));
  }
  if (!req.numeric) fmt.resolver = await deps.names(addressesOf(snap.services));
  if (req.save) {
    const entries = req.nosort ? snap.services : sortEntries(snap.services);
    return ok(formatSave(entries, { numeric: req.numeric, resolver: fmt.resolver ?? NO_NAMES }));
  }
  return ok(formatList(snap, fmt));
}

/** Run lvsadm with ipvsadm-style arguments; never throws for user errors. */
export async function runLvsadm(
  program: string,
  args: readonly string[],
  deps: LvsadmDeps = systemDeps,
): Promise<LvsadmResult> {
  const parsed = parseArgs(program, args, deps.argNames);
  switch (parsed.kind) {
    case 'exit':
      return { stdout: parsed.stdout, stderr: parsed.stderr, code: parsed.code };
    case 'help':
      return { stdout: formatUsage(program), stderr: '', code: 0 };
    case 'version':
      return { stdout: IPVSADM_VERSION_LINE, stderr: '', code: 0 };
    case 'write':
      return {
        stdout: '',
        stderr: `${program}: kube-ipvs owns the IPVS table; '${parsed.command}' refused, nothing was changed\n`,
        code: 2,
      };
    case 'list': {
      let source: SnapshotSource;
      // ipvsadm's message only when the kernel really has no IPVS family; anything
      // else (addon not built, no permission) is said as it is, in one line.
      const refused = (e: unknown): LvsadmResult | undefined => {
        const f = classifyOpenFailure(e);
        return f.kind === 'ipvs-absent'
          ? undefined
          : { stdout: '', stderr: `${program}: ${f.reason}\n`, code: 2 };
      };
      try {
        source = await deps.openSource();
      } catch (e) {
        const other = refused(e);
        if (other) return other;
        // No IPVS: a node kube-ipvs serves with its iptables backend is listed from its
        // chains, before any attempt to load ip_vs (which would list an empty table).
        let fallback: SnapshotSource | undefined;
        try {
          fallback = await deps.fallbackSource?.();
        } catch (e3) {
          const text = e3 instanceof Error ? e3.message : String(e3);
          return {
            stdout: '',
            stderr: `${program}: reading the iptables backend's chains: ${text.split('\n')[0] ?? ''}\n`,
            code: 2,
          };
        }
        if (fallback) source = fallback;
        else {
          // ipvsadm tries "modprobe -- ip_vs" once before giving up.
          const probe = await deps.modprobe();
          const prefix = probe.stderr;
          if (!probe.ok) return { stdout: '', stderr: prefix + INIT_FAILURE, code: 2 };
          try {
            source = await deps.openSource();
          } catch (e2) {
            const other2 = refused(e2);
            if (other2) return { ...other2, stderr: prefix + other2.stderr };
            return { stdout: '', stderr: prefix + INIT_FAILURE, code: 2 };
          }
        }
      }
      try {
        return await list(program, parsed.request, source, deps);
      } catch (e) {
        return { stdout: '', stderr: `${e instanceof Error ? e.message : String(e)}\n`, code: 1 };
      } finally {
        await source.close();
      }
    }
  }
}

/** Entry point for bin/lvsadm.js. */
export async function main(
  argv: readonly string[] = process.argv,
  deps: LvsadmDeps = systemDeps,
): Promise<void> {
  const program = basename(argv[1] ?? 'lvsadm').replace(/\.js$/, '');
  await runProgram(program, async (out) => {
    const r = await runLvsadm(program, argv.slice(2), deps);
    out.stdout(r.stdout);
    // In this order, as ipvsadm, when both go to one file.
    await out.settled();
    out.stderr(r.stderr);
    return r.code;
  });
}

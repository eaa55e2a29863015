// Where lvsadm's snapshot comes from. The kernel source reads IPVS over generic netlink
// with the project's IpvsClient; tests substitute a fixed snapshot.

import { readFile } from 'node:fs/promises';
import { getSystemErrorMap } from 'node:util';
import {
  IPVS_GENL_NAME,
  IpvsClient,
  NetlinkError,
  type DumpOptions,
} from '../../../bindings/ipvs/index.js';
import { GenlFamilyNotFoundError, NetlinkAddonError } from '../../../bindings/netlink/errors.js';
import type {
  IpvsDaemon,
  IpvsDestination,
  IpvsInfo,
  IpvsService,
  IpvsTimeouts,
} from '../../../bindings/ipvs/types.js';
import type { Snapshot, SnapshotEntry } from '../format/snapshot.js';

export interface SnapshotSource {
  /**
   * Services with their destinations, info, timeouts and daemons, read back to back.
   * `stats: false` leaves the counters out (a listing without --stats or --rate).
   */
  snapshot(options?: DumpOptions): Promise<Snapshot>;
  /** Text of /proc/net/ip_vs_conn, or null when it cannot be opened. */
  connections(): Promise<string | null>;
  close(): Promise<void>;
}

/** The read side of bindings/ipvs's IpvsClient that lvsadm needs. */
export interface IpvsReader {
  getServices(options?: DumpOptions): Promise<IpvsService[]>;
  getDestinations(svc: IpvsService, options?: DumpOptions): Promise<IpvsDestination[]>;
  getTimeouts(): Promise<IpvsTimeouts>;
  getInfo(): Promise<IpvsInfo>;
  getDaemons(): Promise<IpvsDaemon[]>;
  close?(): void | Promise<void>;
}

export const CONN_PROC_FILE = '/proc/net/ip_vs_conn';

export async function readConnFile(path = CONN_PROC_FILE): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

export function readerSource(reader: IpvsReader, connPath = CONN_PROC_FILE): SnapshotSource {
  return {
    async snapshot(options: DumpOptions = {}): Promise<Snapshot> {
      const info = await reader.getInfo();
      const services = await reader.getServices(options);
      const entries: SnapshotEntry[] = [];
      for (const service of services) {
        entries.push({ service, destinations: await reader.getDestinations(service, options) });
      }
      const timeouts = await reader.getTimeouts();
      const daemons = await reader.getDaemons();
      return { info, services: entries, timeouts, daemons };
    },
    connections: () => readConnFile(connPath),
    async close(): Promise<void> {
      await reader.close?.();
    },
  };
}

export function staticSource(snap: Snapshot, conn: string | null = null): SnapshotSource {
  return {
    snapshot: () => Promise.resolve(snap),
    connections: () => Promise.resolve(conn),
    close: () => Promise.resolve(),
  };
}

export interface KernelSourceOptions {
  /** Load the netlink addon from this file (tests make loading fail with it). */
  addonPath?: string;
}

/**
 * Open the kernel over generic netlink with the project's IpvsClient, and read
 * IPVS_CMD_GET_INFO once, as ipvsadm's ipvs_init does, so that missing permission
 * shows at open and not halfway through a listing.
 */
export async function kernelSource(options: KernelSourceOptions = {}): Promise<SnapshotSource> {
  // A listing is thousands of sequential dumps with nothing else to do: blocking receive.
  const client = await IpvsClient.open({ blocking: true, ...options });
  try {
    await client.getInfo();
  } catch (e) {
    client.close();
    throw e;
  }
  return readerSource(client);
}

/**
 * Why opening the kernel source failed: 'ipvs-absent' only when the kernel has no
 * IPVS generic netlink family (ipvsadm's "Can't initialize ipvs" case, worth a
 * modprobe), else one line naming the real reason.
 */
export type OpenFailure = { kind: 'ipvs-absent' } | { kind: 'other'; reason: string };

const systemErrors = getSystemErrorMap();

function strerror(errno: number): string {
  const text = systemErrors.get(-errno)?.[1] ?? `error ${errno}`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function errnoOf(e: unknown): { errno: number; syscall: string | undefined } | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { errno, syscall } = e as { errno?: unknown; syscall?: unknown };
  if (typeof errno !== 'number' || errno <= 0) return undefined;
  return { errno, syscall: typeof syscall === 'string' ? syscall : undefined };
}

const EPERM = 1;
const EACCES = 13;

export function classifyOpenFailure(e: unknown): OpenFailure {
  if (e instanceof GenlFamilyNotFoundError && e.family === IPVS_GENL_NAME) {
    return { kind: 'ipvs-absent' };
  }
  if (e instanceof NetlinkAddonError) {
    return {
      kind: 'other',
      reason: `cannot load the netlink addon (${e.path}): ${e.reason}; run npm run build:native`,
    };
  }
  const sys = errnoOf(e);
  if (sys) {
    // A system call of the addon (socket, bind, setsockopt) or a kernel answer.
    const what = e instanceof NetlinkError ? 'reading IPVS' : 'opening a netlink socket';
    const hint = sys.errno === EPERM || sys.errno === EACCES ? ' (run as root)' : '';
    return { kind: 'other', reason: `${what}: ${strerror(sys.errno)}${hint}` };
  }
  const text = e instanceof Error ? e.message : String(e);
  return { kind: 'other', reason: `opening IPVS: ${text.split('\n')[0] ?? ''}` };
}

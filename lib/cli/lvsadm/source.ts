// Where lvsadm's snapshot comes from. The kernel source reads IPVS over generic netlink
// with the project's IpvsClient; tests substitute a fixed snapshot.

import { readFile } from 'node:fs/promises';
import { IpvsClient, type DumpOptions } from '../../../bindings/ipvs/index.js';
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

/** Open the kernel over generic netlink with the project's IpvsClient. */
export async function kernelSource(): Promise<SnapshotSource> {
  // A listing is thousands of sequential dumps with nothing else to do: blocking receive.
  return readerSource(await IpvsClient.open({ blocking: true }));
}

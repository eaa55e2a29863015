// The daemon's side of the owner map: kept in step with the desired table per sync (a
// partial sync looks only at the virtual servers it translated), and written (temp file,
// then rename, so a reader never sees half a file) only when an owner came, went or
// changed. Endpoint churn writes nothing. A failed write is warned about once (repeats at
// debug) and retried after the next sync; it never fails the sync.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { VirtualServer, VirtualServerKey } from '../model/types.js';
import type { DesiredTable } from '../reconcile/desired-table.js';
import { formatOwnerMap, ownerEntry, sameOwner, type OwnerEntry } from './format.js';

export interface OwnerWriterLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface OwnerWriterOptions {
  /** The file (ownersPath()). */
  file: string;
  node: string;
  log: OwnerWriterLog;
}

export class OwnerMapWriter {
  private readonly owners = new Map<VirtualServerKey, OwnerEntry>();
  /** The map differs from the file (or the file was never written). */
  private dirty = true;
  /** Writes done, for tests. */
  writes = 0;
  /** The last failure's text: the same failure again is logged at debug, not warned. */
  private failure: string | undefined;

  constructor(private readonly opts: OwnerWriterOptions) {}

  /** The reconciler's SyncedHook. */
  readonly synced = async (
    table: DesiredTable,
    changed: ReadonlySet<VirtualServerKey> | 'all',
  ): Promise<void> => {
    if (changed === 'all') {
      for (const k of this.owners.keys()) if (table.get(k) === undefined) this.set(k, undefined);
      for (const k of table.keys()) this.set(k, table.get(k));
    } else {
      for (const k of changed) this.set(k, table.get(k));
    }
    if (this.dirty) await this.write();
  };

  private set(key: VirtualServerKey, vs: VirtualServer | undefined): void {
    const next = vs && ownerEntry(vs.owner);
    if (sameOwner(this.owners.get(key), next)) return;
    if (next) this.owners.set(key, next);
    else this.owners.delete(key);
    this.dirty = true;
  }

  private async write(): Promise<void> {
    const { file } = this.opts;
    const tmp = `${file}.tmp.${process.pid}`;
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o755 });
      await writeFile(tmp, formatOwnerMap(this.opts.node, this.owners), { mode: 0o644 });
      await rename(tmp, file);
      this.dirty = false;
      this.failure = undefined;
      this.writes++;
      this.opts.log.debug({ file, virtualServers: this.owners.size }, 'owner map written');
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      const log = error === this.failure ? this.opts.log.debug : this.opts.log.warn;
      this.failure = error;
      log.call(
        this.opts.log,
        { file, error },
        'writing the owner map for lvsadm --k8s failed; retrying after the next sync',
      );
    }
  }
}

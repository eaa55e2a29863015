// Standalone source: a directory of YAML files holding Services, EndpointSlices and
// Endpoints (mirrored into EndpointSlices as the control plane would), fed into an
// ObjectSink and watched for changes (fs.watch, debounced). Every problem is reported with
// file and line.
//
// A bad document is dropped alone. When a file that was read cleanly before turns bad (an
// edit in progress), its last clean objects stay in effect until it is fixed, so a typo in
// a watched file never withdraws the Services that were working; a file without a clean
// past (first read, as in `render`) contributes its good documents.
//
// An object (kind/namespace/name) defined more than once: the last definition wins, in
// file-name order and within a file, and each ignored definition gets a warning naming both.
//
// Only changed files are re-parsed, and only the objects they define or used to define are
// pushed to the sink. Files: *.yaml, *.yml, *.json directly in the directory; symlinks to
// files are followed, subdirectories are not read (each is reported). Names starting with
// '.' are skipped quietly: editor swap files, and a mounted ConfigMap's ..data and
// ..<timestamp> entries, whose files are read through the visible top-level links.
import { watch, type FSWatcher } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Endpoints, V1Service } from '@kubernetes/client-node';
import { mirrorEndpoints, mirrorRefusal } from './endpoints-mirror.js';
import { parseManifest, type ManifestObject, type ManifestProblem } from './manifest-parse.js';
import type { ObjectSink } from './sink.js';
import { isSystemError, systemErrorReason } from '../system-error.js';

export interface ManifestSourceOptions {
  dir: string;
  sink: ObjectSink;
  /** Quiet time after the last file event before rescanning (default 100 ms). */
  debounceMs?: number;
  /** Called after every scan that changed something or reported problems. */
  onScan?: (scan: ScanResult) => void;
}

export interface ScanResult {
  /** Files re-read because their content changed, appeared or vanished. */
  changedFiles: string[];
  /** All current problems, over all files (parse errors, duplicates, mirroring notes). */
  problems: ManifestProblem[];
}

interface FileState {
  content: string;
  /** Objects in effect, by object key. */
  objects: Map<string, ManifestObject>;
  /** The objects come from a parse without errors. */
  clean: boolean;
  /** Problems of the last parse. */
  problems: ManifestProblem[];
}

function objectKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

const WANTED = /\.(ya?ml|json)$/i;

function duplicateWarning(ignored: ManifestObject, used: ManifestObject): ManifestProblem {
  return {
    file: ignored.file,
    line: ignored.line,
    column: 1,
    severity: 'warning',
    message: `${ignored.kind} ${ignored.namespace}/${ignored.name} is ignored: defined again at ${used.file}:${used.line}, which is used`,
  };
}

/** A directory entry that is not read, and why. */
function skippedEntry(path: string, severity: 'error' | 'warning', why: string): ManifestProblem {
  return { file: path, line: 0, column: 0, severity, message: `skipped: ${why}` };
}

export class ManifestSource {
  private readonly files = new Map<string, FileState>();
  /** Object key → the files defining it. */
  private readonly definers = new Map<string, Set<string>>();
  /** Object key → the definition in effect (from the last file, by name). */
  private readonly effective = new Map<string, { obj: ManifestObject; json: string }>();
  /** Endpoints key (ns/name) → mirrored slice name → JSON. */
  private readonly mirrored = new Map<string, Map<string, string>>();
  private readonly mirrorNotes = new Map<string, ManifestProblem[]>();
  /** Directory entries not read in the last scan (and the directory itself, unreadable). */
  private entryProblems: ManifestProblem[] = [];
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<ScanResult> | undefined;
  private again = false;
  scans = 0;

  constructor(private readonly opts: ManifestSourceOptions) {}

  /** Reads the directory once and feeds the sink. Resolves with the problems found. */
  async load(): Promise<ScanResult> {
    return this.rescan();
  }

  /** Watches the directory; changes are applied after debounceMs of quiet. */
  start(): void {
    if (this.watcher) return;
    this.watcher = watch(this.opts.dir, { persistent: true }, () => this.schedule());
    this.watcher.on('error', () => this.schedule());
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  problems(): ManifestProblem[] {
    const byPath: Array<[string, ManifestProblem[]]> = [...this.files.entries()].map(
      ([file, f]) => [file, f.problems],
    );
    for (const p of this.entryProblems) byPath.push([p.file, [p]]);
    byPath.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const out = byPath.flatMap(([, ps]) => ps);
    out.push(...this.duplicates());
    for (const notes of this.mirrorNotes.values()) out.push(...notes);
    return out;
  }

  private duplicates(): ManifestProblem[] {
    const out: ManifestProblem[] = [];
    for (const [key, files] of this.definers) {
      if (files.size < 2) continue;
      const eff = this.effective.get(key);
      if (!eff) continue;
      for (const f of [...files].sort()) {
        if (f === eff.obj.file) continue;
        const o = this.files.get(f)?.objects.get(key);
        if (o) out.push(duplicateWarning(o, eff.obj));
      }
    }
    return out;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.rescan().catch(() => undefined);
    }, this.opts.debounceMs ?? 100);
  }

  /** Re-reads the directory now; concurrent calls coalesce into one more scan. */
  async rescan(): Promise<ScanResult> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      let result: ScanResult;
      do {
        this.again = false;
        result = await this.scanOnce();
      } while (this.again);
      return result;
    })();
    try {
      return await this.scanning;
    } finally {
      this.scanning = undefined;
    }
  }

  /** The manifest files to read now; every other entry worth mentioning is reported. */
  private async listFiles(dir: string, names: string[]): Promise<string[]> {
    const files: string[] = [];
    const report = (p: ManifestProblem) => this.entryProblems.push(p);
    for (const n of names.filter((n) => !n.startsWith('.')).sort()) {
      const path = join(dir, n);
      const wanted = WANTED.test(n);
      try {
        const st = await stat(path);
        if (st.isDirectory())
          report(skippedEntry(path, 'warning', 'a directory (subdirectories are not read)'));
        else if (!wanted) continue;
        else if (st.isFile()) files.push(path);
        else report(skippedEntry(path, 'warning', 'not a regular file'));
      } catch (e) {
        if (!isSystemError(e)) throw e;
        if (!wanted) continue;
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          report(skippedEntry(path, 'error', `cannot read the file: ${systemErrorReason(e)}`));
          continue;
        }
        // A link to nothing; or the entry vanished since readdir, which is no news.
        const target = await readlink(path).catch(() => undefined);
        if (target !== undefined && (await lstat(path).catch(() => undefined))?.isSymbolicLink()) {
          report(skippedEntry(path, 'warning', `a symbolic link to nothing (${target})`));
        }
      }
    }
    return files;
  }

  private async scanOnce(): Promise<ScanResult> {
    this.scans++;
    const dir = this.opts.dir;
    this.entryProblems = [];
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if (!isSystemError(e)) throw e;
      // Keep what is in effect: a directory that is briefly away must not withdraw everything.
      this.entryProblems.push({
        file: dir,
        line: 0,
        column: 0,
        severity: 'error',
        message: `cannot read the directory: ${systemErrorReason(e)}`,
      });
      const result = { changedFiles: [], problems: this.problems() };
      this.opts.onScan?.(result);
      return result;
    }
    const seen = new Set<string>();
    const changedFiles: string[] = [];
    const touched = new Set<string>();
    for (const file of await this.listFiles(dir, names)) {
      let content: string;
      try {
        content = await readFile(file, 'utf8');
      } catch (e) {
        if (!isSystemError(e)) throw e;
        if (e.code === 'ENOENT') continue; // vanished: gone
        // Unreadable now: what it defined stays in effect, as for a parse error.
        this.entryProblems.push(
          skippedEntry(file, 'error', `cannot read the file: ${systemErrorReason(e)}`),
        );
        if (this.files.has(file)) seen.add(file);
        continue;
      }
      seen.add(file);
      const prev = this.files.get(file);
      if (prev && prev.content === content) continue;
      changedFiles.push(file);
      const parsed = parseManifest(content, file);
      if (!parsed.ok && prev?.clean) {
        // An edit in progress: the last clean objects stay in effect.
        this.files.set(file, { ...prev, content, problems: parsed.problems });
        continue;
      }
      const objects = new Map<string, ManifestObject>();
      const problems = [...parsed.problems];
      for (const o of parsed.objects) {
        const key = objectKey(o.kind, o.namespace, o.name);
        const earlier = objects.get(key);
        if (earlier) problems.push(duplicateWarning(earlier, o));
        objects.set(key, o);
      }
      problems.sort((a, b) => a.line - b.line || a.column - b.column);
      this.setFileObjects(file, prev?.objects, objects, touched);
      this.files.set(file, { content, objects, clean: parsed.ok, problems });
    }
    for (const file of [...this.files.keys()]) {
      if (seen.has(file)) continue;
      changedFiles.push(file);
      this.setFileObjects(file, this.files.get(file)?.objects, new Map(), touched);
      this.files.delete(file);
    }
    this.apply(touched);
    const result = { changedFiles, problems: this.problems() };
    if (changedFiles.length > 0 || result.problems.length > 0) this.opts.onScan?.(result);
    return result;
  }

  private setFileObjects(
    file: string,
    before: Map<string, ManifestObject> | undefined,
    after: Map<string, ManifestObject>,
    touched: Set<string>,
  ): void {
    for (const key of before?.keys() ?? []) {
      if (after.has(key)) continue;
      const defs = this.definers.get(key);
      defs?.delete(file);
      if (defs && defs.size === 0) this.definers.delete(key);
      touched.add(key);
    }
    for (const key of after.keys()) {
      let defs = this.definers.get(key);
      if (!defs) {
        defs = new Set();
        this.definers.set(key, defs);
      }
      defs.add(file);
      touched.add(key);
    }
  }

  private apply(touched: Set<string>): void {
    const sink = this.opts.sink;
    const remirror = new Set<string>();
    for (const key of touched) {
      const defs = this.definers.get(key);
      // The last definition wins, in file-name order as within a file.
      const last = defs && defs.size > 0 ? [...defs].sort().at(-1) : undefined;
      const obj = last !== undefined ? this.files.get(last)?.objects.get(key) : undefined;
      const json = obj ? JSON.stringify(obj.object) : undefined;
      const prev = this.effective.get(key);
      if (prev?.json === json) continue;
      const [kind, ns = '', name = ''] = key.split('/');
      if (obj && json !== undefined) this.effective.set(key, { obj, json });
      else this.effective.delete(key);
      switch (kind) {
        case 'Service':
          if (obj) sink.upsertService(obj.object as unknown as V1Service);
          else sink.removeService(ns, name);
          // Whether this Service's Endpoints are mirrored depends on its selector.
          remirror.add(`${ns}/${name}`);
          break;
        case 'EndpointSlice':
          if (obj) sink.upsertSlice(obj.object as unknown as V1EndpointSlice);
          else sink.removeSlice(ns, name);
          break;
        case 'Endpoints':
          remirror.add(`${ns}/${name}`);
          break;
      }
    }
    for (const nsName of remirror) this.mirror(nsName);
  }

  private mirror(nsName: string): void {
    const sink = this.opts.sink;
    const [ns = '', name = ''] = nsName.split('/');
    const eps = this.effective.get(objectKey('Endpoints', ns, name))?.obj;
    const svc = this.effective.get(objectKey('Service', ns, name))?.obj;
    let slices: V1EndpointSlice[] = [];
    const notes: ManifestProblem[] = [];
    if (eps) {
      const endpoints = eps.object as unknown as V1Endpoints;
      const refusal = mirrorRefusal(endpoints, svc?.object as unknown as V1Service | undefined);
      if (refusal === undefined) {
        const r = mirrorEndpoints(endpoints);
        slices = r.slices;
        for (const message of r.notes) {
          notes.push({ file: eps.file, line: eps.line, column: 1, severity: 'warning', message });
        }
      } else {
        notes.push({
          file: eps.file,
          line: eps.line,
          column: 1,
          severity: 'warning',
          message: `Endpoints ${ns}/${name} not mirrored to EndpointSlices: ${refusal}`,
        });
      }
    }
    if (notes.length > 0) this.mirrorNotes.set(nsName, notes);
    else this.mirrorNotes.delete(nsName);
    const before = this.mirrored.get(nsName) ?? new Map<string, string>();
    const after = new Map<string, string>();
    for (const s of slices) {
      const sliceName = s.metadata?.name ?? '';
      const json = JSON.stringify(s);
      after.set(sliceName, json);
      if (before.get(sliceName) !== json) sink.upsertSlice(s);
    }
    for (const sliceName of before.keys()) {
      if (!after.has(sliceName)) sink.removeSlice(ns, sliceName);
    }
    if (after.size > 0) this.mirrored.set(nsName, after);
    else this.mirrored.delete(nsName);
  }
}

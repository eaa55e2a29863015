// Standalone source: a directory of YAML files holding Services, EndpointSlices and
// Endpoints (mirrored into EndpointSlices as the control plane would), fed into an
// ObjectSink and watched for changes (fs.watch, debounced). A file that fails to parse keeps
// its last good objects; its errors are reported with file and line.
//
// Only changed files are re-parsed, and only the objects they define or used to define are
// pushed to the sink. Files: *.yaml, *.yml, *.json directly in the directory, not starting
// with '.', so editor swap files and the ..data links of a mounted ConfigMap are skipped
// (their targets are read through the visible symlinks).
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Endpoints, V1Service } from '@kubernetes/client-node';
import { mirrorEndpoints, mirrorRefusal } from './endpoints-mirror.js';
import { parseManifest, type ManifestObject, type ManifestProblem } from './manifest-parse.js';
import type { ObjectSink } from './sink.js';

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
  /** Last good objects, by object key. */
  objects: Map<string, ManifestObject>;
  /** Problems of the last parse (errors mean objects are the previous good ones). */
  problems: ManifestProblem[];
}

function objectKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

const WANTED = /\.(ya?ml|json)$/i;

export class ManifestSource {
  private readonly files = new Map<string, FileState>();
  /** Object key → the files defining it. */
  private readonly definers = new Map<string, Set<string>>();
  /** Object key → the definition in effect (from the first file, by name). */
  private readonly effective = new Map<string, { obj: ManifestObject; json: string }>();
  /** Endpoints key (ns/name) → mirrored slice name → JSON. */
  private readonly mirrored = new Map<string, Map<string, string>>();
  private readonly mirrorNotes = new Map<string, ManifestProblem[]>();
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
    const out: ManifestProblem[] = [];
    for (const [, f] of [...this.files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out.push(...f.problems);
    }
    for (const [, defs] of this.duplicates()) out.push(defs);
    for (const notes of this.mirrorNotes.values()) out.push(...notes);
    return out;
  }

  private duplicates(): Array<[string, ManifestProblem]> {
    const out: Array<[string, ManifestProblem]> = [];
    for (const [key, files] of this.definers) {
      if (files.size < 2) continue;
      const eff = this.effective.get(key);
      if (!eff) continue;
      for (const f of [...files].sort()) {
        if (f === eff.obj.file) continue;
        const o = this.files.get(f)?.objects.get(key);
        out.push([
          key,
          {
            file: f,
            line: o?.line ?? 0,
            column: 1,
            severity: 'warning',
            message: `${eff.obj.kind} ${eff.obj.namespace}/${eff.obj.name} is also defined in ${eff.obj.file}:${eff.obj.line}, which is used`,
          },
        ]);
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

  private async scanOnce(): Promise<ScanResult> {
    this.scans++;
    const dir = this.opts.dir;
    const names = (await readdir(dir)).filter((n) => !n.startsWith('.') && WANTED.test(n)).sort();
    const seen = new Set<string>();
    const changedFiles: string[] = [];
    const touched = new Set<string>();
    for (const n of names) {
      const file = join(dir, n);
      let content: string;
      try {
        if (!(await stat(file)).isFile()) continue;
        content = await readFile(file, 'utf8');
      } catch {
        // Vanished between readdir and read: treated as gone.
        continue;
      }
      seen.add(file);
      const prev = this.files.get(file);
      if (prev && prev.content === content) continue;
      changedFiles.push(file);
      const parsed = parseManifest(content, file);
      if (!parsed.ok) {
        // Keep the last good objects of this file.
        this.files.set(file, {
          content,
          objects: prev?.objects ?? new Map(),
          problems: parsed.problems,
        });
        continue;
      }
      const objects = new Map<string, ManifestObject>();
      const problems = [...parsed.problems];
      for (const o of parsed.objects) {
        const key = objectKey(o.kind, o.namespace, o.name);
        const earlier = objects.get(key);
        if (earlier) {
          problems.push({
            file,
            line: o.line,
            column: 1,
            severity: 'warning',
            message: `${o.kind} ${o.namespace}/${o.name} is defined again (first at line ${earlier.line}); the later one is used`,
          });
        }
        objects.set(key, o);
      }
      this.setFileObjects(file, prev?.objects, objects, touched);
      this.files.set(file, { content, objects, problems });
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
      const first = defs && defs.size > 0 ? [...defs].sort()[0] : undefined;
      const obj = first !== undefined ? this.files.get(first)?.objects.get(key) : undefined;
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

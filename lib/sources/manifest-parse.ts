// One manifest file → the Services, EndpointSlices and Endpoints it holds. Multi-document
// YAML (or JSON); `kind: List` (and *List, as kubectl get -o yaml writes) is expanded.
// Every problem names file:line:column. A bad document (YAML syntax, an alias bomb, an
// invalid object) is dropped alone: the file's other documents are still returned, and
// `ok: false` tells the caller that something was dropped. Merge keys (`<<`) are read, as
// kubectl reads them. The YAML library's own warnings are returned as located warnings;
// it never prints them.
import {
  isCollection,
  isMap,
  isSeq,
  LineCounter,
  parseAllDocuments,
  visit,
  type Document,
  type Node as YamlNode,
} from 'yaml';

export type ManifestKind = 'Service' | 'EndpointSlice' | 'Endpoints';

export interface ManifestObject {
  kind: ManifestKind;
  namespace: string;
  name: string;
  /** The object as plain JSON (namespace filled in). */
  object: Record<string, unknown>;
  file: string;
  line: number;
}

export interface ManifestProblem {
  file: string;
  /** 1-based; 0 when about the file as a whole. */
  line: number;
  column: number;
  severity: 'error' | 'warning';
  message: string;
}

export interface ParsedManifest {
  ok: boolean;
  objects: ManifestObject[];
  problems: ManifestProblem[];
}

const API_VERSIONS: Record<ManifestKind, string> = {
  Service: 'v1',
  Endpoints: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
};

export function formatProblem(p: ManifestProblem): string {
  const at = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${at}: ${p.severity}: ${p.message}`;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function parseManifest(
  text: string,
  file: string,
  defaultNamespace = 'default',
): ParsedManifest {
  const lineCounter = new LineCounter();
  // logLevel 'error': the library would print some warnings itself (process.emitWarning).
  const docs = parseAllDocuments(text, {
    lineCounter,
    prettyErrors: false,
    logLevel: 'error',
    merge: true,
  });
  const problems: ManifestProblem[] = [];
  const objects: ManifestObject[] = [];
  const pos = (n: YamlNode | null | undefined): { line: number; col: number } => {
    const off = n?.range?.[0];
    return off === undefined ? { line: 1, col: 1 } : lineCounter.linePos(off);
  };
  const fail = (at: { line: number; col: number }, message: string): void => {
    problems.push({ file, line: at.line, column: at.col, severity: 'error', message });
  };
  const warn = (at: { line: number; col: number }, message: string): void => {
    problems.push({ file, line: at.line, column: at.col, severity: 'warning', message });
  };
  const firstLine = (m: string): string => m.split('\n')[0] ?? m;

  /** The document as JSON, or undefined (and its problems recorded) when it is unusable. */
  const toJson = (d: Document.Parsed): { value: unknown } | undefined => {
    for (const w of d.warnings)
      warn(w.linePos?.[0] ?? lineCounter.linePos(w.pos[0]), firstLine(w.message));
    // toJS would stringify such a key and say so on the process's warning channel.
    visit(d, {
      Pair(_, pair) {
        if (isCollection(pair.key)) {
          warn(pos(pair.key), 'a key that is a mapping or a list is read as its YAML text');
        }
      },
    });
    if (d.errors.length > 0) {
      for (const e of d.errors)
        fail(e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]), firstLine(e.message));
      return undefined;
    }
    try {
      // Aliases beyond this many are an attack (billion laughs), not a manifest.
      return { value: d.toJS({ maxAliasCount: 100 }) };
    } catch (e) {
      // An unresolved alias, or too many aliases: the library throws for the document.
      const start = d.contents ?? undefined;
      fail(pos(start), `YAML: ${firstLine(e instanceof Error ? e.message : String(e))}`);
      return undefined;
    }
  };

  const take = (value: unknown, node: YamlNode | null | undefined): void => {
    const at = pos(node);
    if (value === null || value === undefined) return;
    if (!isObj(value)) {
      fail(at, 'a manifest document must be a mapping');
      return;
    }
    const kind = value.kind;
    if (typeof kind !== 'string') {
      fail(at, 'missing "kind"');
      return;
    }
    if (kind === 'List' || (kind.endsWith('List') && Array.isArray(value.items))) {
      const items = Array.isArray(value.items) ? value.items : [];
      const seqNode = isMap(node) ? node.get('items', true) : undefined;
      items.forEach((item, i) => {
        const itemNode = isSeq(seqNode) ? (seqNode.items[i] as YamlNode | undefined) : undefined;
        const withKind =
          isObj(item) && item.kind === undefined && kind !== 'List'
            ? { ...item, kind: kind.slice(0, -4), apiVersion: value.apiVersion }
            : item;
        take(withKind, itemNode ?? node);
      });
      return;
    }
    if (kind !== 'Service' && kind !== 'EndpointSlice' && kind !== 'Endpoints') {
      warn(at, `${kind} ignored: only Service, EndpointSlice and Endpoints are read`);
      return;
    }
    const want = API_VERSIONS[kind];
    if (value.apiVersion !== want) {
      const found =
        value.apiVersion === undefined
          ? '; apiVersion is missing'
          : `, found ${JSON.stringify(value.apiVersion)}`;
      fail(at, `${kind} must have apiVersion ${want}${found}`);
      return;
    }
    const meta = isObj(value.metadata) ? value.metadata : undefined;
    const name = meta?.name;
    if (typeof name !== 'string' || name === '') {
      fail(at, `${kind} without metadata.name`);
      return;
    }
    if (!NAME_RE.test(name) || name.length > 253) {
      fail(at, `${kind} name ${JSON.stringify(name)} is not a valid DNS subdomain name`);
      return;
    }
    const nsRaw = meta?.namespace;
    if (nsRaw !== undefined && (typeof nsRaw !== 'string' || !NAME_RE.test(nsRaw))) {
      fail(at, `${kind} ${name}: metadata.namespace ${JSON.stringify(nsRaw)} is not valid`);
      return;
    }
    const namespace = typeof nsRaw === 'string' ? nsRaw : defaultNamespace;
    const object = { ...value, metadata: { ...meta, namespace } };
    objects.push({ kind, namespace, name, object, file, line: at.line });
  };

  for (const d of docs) {
    const json = toJson(d);
    if (json) take(json.value, d.contents);
  }
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: !problems.some((p) => p.severity === 'error'), objects, problems };
}

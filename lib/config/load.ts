// Reading a config file: YAML → zod, with every error tied to file:line:column of the
// offending node, its field path, the bad value and what is allowed.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  LineCounter,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Node as YamlNode,
} from 'yaml';
import type { z } from 'zod';
import { configSchema, type KubeIpvsConfig } from './schema.js';
import { configJsonSchema } from './json-schema.js';

export interface ConfigError {
  file: string;
  /** 1-based; 0 when the error is about the file as a whole (unreadable). */
  line: number;
  column: number;
  /** Field path such as "services[0].scheduler"; "" for the document itself. */
  path: string;
  message: string;
  /** The whole error on one line, ready to print. */
  text: string;
}

export type LoadResult =
  | { ok: true; config: KubeIpvsConfig; hash: string }
  | { ok: false; errors: ConfigError[]; hash: string };

type PathKey = string | number;

export function formatPath(path: readonly PathKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k)) out += out ? `.${k}` : k;
    else out += `[${JSON.stringify(k)}]`;
  }
  return out;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function makeError(
  file: string,
  pos: { line: number; col: number } | undefined,
  path: readonly PathKey[],
  message: string,
): ConfigError {
  const p = formatPath(path);
  const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
  return {
    file,
    line: pos?.line ?? 0,
    column: pos?.col ?? 0,
    path: p,
    message,
    text: `${where}: ${p || '(document)'}: ${message}`,
  };
}

/** The node at `path`, or the deepest existing ancestor. */
function nodeAt(
  doc: Document,
  path: readonly PathKey[],
): { node: YamlNode | undefined; exact: boolean } {
  let node: unknown = doc.contents;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (!pair) return { node: node as YamlNode, exact: false };
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof key === 'number') {
      const item: unknown = node.items[key];
      if (!isNode(item)) return { node: node as YamlNode, exact: false };
      node = item;
    } else {
      return { node: isNode(node) ? node : undefined, exact: false };
    }
  }
  return { node: isNode(node) ? node : undefined, exact: true };
}

function keyNodeAt(doc: Document, path: readonly PathKey[], key: string): YamlNode | undefined {
  const { node } = nodeAt(doc, path);
  if (!isMap(node)) return undefined;
  const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
  return pair && isNode(pair.key) ? pair.key : undefined;
}

function valueAt(data: unknown, path: readonly PathKey[]): unknown {
  let v: unknown = data;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PathKey, unknown>)[k];
  }
  return v;
}

/** The generated JSON Schema of the field at `path`. */
function schemaAt(path: readonly PathKey[]): Record<string, unknown> | undefined {
  let s: Record<string, unknown> | undefined = configJsonSchema() as Record<string, unknown>;
  for (const k of path) {
    if (!s) return undefined;
    if (typeof k === 'number') s = s.items as Record<string, unknown> | undefined;
    else s = (s.properties as Record<string, Record<string, unknown>> | undefined)?.[k];
  }
  return s;
}

/** Field names allowed at `path`. */
function allowedKeys(path: readonly PathKey[]): string[] {
  const props = schemaAt(path)?.properties as Record<string, unknown> | undefined;
  return props ? Object.keys(props) : [];
}

function issueErrors(
  issue: z.core.$ZodIssue,
  doc: Document,
  data: unknown,
  file: string,
  pos: (n: YamlNode | undefined) => { line: number; col: number } | undefined,
): ConfigError[] {
  const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(path);
    return issue.keys.map((key) =>
      makeError(
        file,
        pos(keyNodeAt(doc, path, key) ?? nodeAt(doc, path).node),
        [...path, key],
        `unknown field; allowed fields here: ${allowed.join(', ')}`,
      ),
    );
  }
  const value = valueAt(data, path);
  const { node, exact } = nodeAt(doc, path);
  let message = issue.message;
  if (value === undefined && !exact && issue.code === 'custom') {
    // A rule between fields (minSyncPeriod ≤ syncPeriod) broken by a default value.
    const def = schemaAt(path)?.default;
    message = `${message}; absent, so its default ${JSON.stringify(def)} applies`;
  } else if (value === undefined && !exact) {
    message = `required field is missing (${message.replace(/^Invalid input: /, '')})`;
  } else {
    message = `${message.replace(/^Invalid input: /, '')}; got ${describeValue(value)}`;
  }
  return [makeError(file, pos(node), path, message)];
}

/** Parse and validate config text. `file` is used in messages only. */
export function parseConfig(text: string, file: string): LoadResult {
  const hash = createHash('sha256').update(text).digest('hex');
  const lineCounter = new LineCounter();
  // merge: `<<` keys are read as YAML 1.1 merge keys, as kube-proxy's Go YAML reads them;
  // logLevel 'error': the library would otherwise print its warnings on the process.
  const docs = parseAllDocuments(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
    logLevel: 'error',
  });
  const pos = (n: YamlNode | undefined) => {
    const offset = n?.range?.[0];
    return offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(offset);
  };
  const list = Array.isArray(docs) ? docs : [];
  const errors: ConfigError[] = [];
  for (const d of list) {
    for (const e of d.errors) {
      const at = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      const msg = e.message.split('\n')[0] ?? e.message;
      errors.push(
        makeError(file, at, [], `YAML syntax: ${msg.replace(/ at line \d+, column \d+:?$/, '')}`),
      );
    }
  }
  if (errors.length > 0) return { ok: false, errors, hash };
  if (list.length > 1) {
    const second = list[1];
    const at = second?.range ? lineCounter.linePos(second.range[0]) : { line: 1, col: 1 };
    return {
      ok: false,
      errors: [makeError(file, at, [], 'expected one YAML document, found several')],
      hash,
    };
  }
  const doc = list[0];
  let data: unknown;
  try {
    // Aliases beyond this many are an attack (billion laughs), not a config.
    data = doc ? doc.toJS({ maxAliasCount: 100 }) : null;
  } catch (e) {
    // An unresolved alias or too many aliases: the library throws instead of reporting.
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
    return { ok: false, errors: [makeError(file, { line: 1, col: 1 }, [], `YAML: ${msg}`)], hash };
  }
  const result = configSchema.safeParse(data ?? null);
  if (result.success) return { ok: true, config: result.data, hash };
  for (const issue of result.error.issues) {
    errors.push(...(doc ? issueErrors(issue, doc, data, file, pos) : []));
  }
  if (errors.length === 0)
    errors.push(
      makeError(
        file,
        { line: 1, col: 1 },
        [],
        'empty document; expected a KubeIpvsConfiguration mapping',
      ),
    );
  errors.sort((a, b) => a.line - b.line || a.column - b.column || a.text.localeCompare(b.text));
  return { ok: false, errors, hash };
}

/** Read and validate the config file at `path`. Never throws. */
export async function loadConfig(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      errors: [makeError(path, undefined, [], `cannot read the file: ${reason}`)],
      hash: '',
    };
  }
  return parseConfig(text, path);
}

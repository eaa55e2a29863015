// The owner map: which Service port each virtual server kube-ipvs programs belongs to, so
// `lvsadm --k8s` can name it. The daemon writes it to RUN_DIR/owners.json, lvsadm reads
// it; this file is the one definition of its place and syntax.
import type { EntryKind, ServiceOwner } from '../model/types.js';

export const RUN_DIR_ENV = 'KUBE_IPVS_RUN_DIR';
export const DEFAULT_RUN_DIR = '/run/kube-ipvs';
export const OWNERS_FILE = 'owners.json';
export const OWNERS_KIND = 'OwnerMap';
export const OWNERS_API_VERSION = 'kube-ipvs.io/v1alpha1';

/** The directory of the owner map: $KUBE_IPVS_RUN_DIR, else /run/kube-ipvs. */
export function runDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env[RUN_DIR_ENV] || DEFAULT_RUN_DIR;
}

export function ownersPath(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return `${runDir(env).replace(/\/+$/, '')}/${OWNERS_FILE}`;
}

/** One virtual server's owner, as stored. */
export interface OwnerEntry {
  namespace: string;
  name: string;
  /** The Service port's name; "" when unnamed. */
  portName: string;
  /** The Service port (spec.ports[].port). */
  port: number;
  /** The entry point: ClusterIP, NodePort, ExternalIP or LoadBalancer. */
  kind: EntryKind;
}

export interface OwnerMap {
  node: string;
  /** By virtual server key: "TCP/10.96.0.10:80", "UDP/[fd00::a]:53". */
  virtualServers: ReadonlyMap<string, OwnerEntry>;
}

export function ownerEntry(o: ServiceOwner): OwnerEntry {
  return {
    namespace: o.namespace,
    name: o.name,
    portName: o.portName,
    port: o.servicePort,
    kind: o.kind,
  };
}

export function sameOwner(a: OwnerEntry | undefined, b: OwnerEntry | undefined): boolean {
  return (
    a === b ||
    (a !== undefined &&
      b !== undefined &&
      a.namespace === b.namespace &&
      a.name === b.name &&
      a.portName === b.portName &&
      a.port === b.port &&
      a.kind === b.kind)
  );
}

/**
 * "namespace/name:port" as kubectl users name a Service port: its name, or its number
 * when unnamed (a Service with one port may leave it unnamed).
 */
export function ownerText(e: OwnerEntry): string {
  return `${e.namespace}/${e.name}:${e.portName !== '' ? e.portName : String(e.port)}`;
}

/** The file's text: one JSON object, keys sorted, one virtual server per line. */
export function formatOwnerMap(
  node: string,
  entries: Iterable<readonly [string, OwnerEntry]>,
): string {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = sorted.map(([k, e]) => `    ${JSON.stringify(k)}: ${JSON.stringify(e)}`);
  return (
    `{\n  "apiVersion": ${JSON.stringify(OWNERS_API_VERSION)},\n  "kind": ${JSON.stringify(OWNERS_KIND)},\n` +
    `  "node": ${JSON.stringify(node)},\n  "virtualServers": {${lines.length ? `\n${lines.join(',\n')}\n  ` : ''}}\n}\n`
  );
}

const KINDS: readonly string[] = ['ClusterIP', 'NodePort', 'ExternalIP', 'LoadBalancer'];

function isEntry(v: unknown): v is OwnerEntry {
  if (v === null || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.namespace === 'string' &&
    typeof e.name === 'string' &&
    typeof e.portName === 'string' &&
    typeof e.port === 'number' &&
    typeof e.kind === 'string' &&
    KINDS.includes(e.kind)
  );
}

/** Parses the file's text; throws an Error saying what is wrong with it. */
export function parseOwnerMap(text: string): OwnerMap {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const d = (doc ?? {}) as Record<string, unknown>;
  if (d.apiVersion !== OWNERS_API_VERSION || d.kind !== OWNERS_KIND)
    throw new Error(`not a ${OWNERS_API_VERSION} ${OWNERS_KIND}`);
  const vs = d.virtualServers;
  if (vs === null || typeof vs !== 'object' || Array.isArray(vs))
    throw new Error('virtualServers is not a map');
  const out = new Map<string, OwnerEntry>();
  for (const [k, v] of Object.entries(vs as Record<string, unknown>)) {
    if (!isEntry(v)) throw new Error(`virtualServers[${JSON.stringify(k)}] is not an owner`);
    out.set(k, {
      namespace: v.namespace,
      name: v.name,
      portName: v.portName,
      port: v.port,
      kind: v.kind,
    });
  }
  return { node: typeof d.node === 'string' ? d.node : '', virtualServers: out };
}

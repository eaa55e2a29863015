// Services and EndpointSlices reduced to what the store and translate read, before the
// informer caches them: a real API server sends managedFields, last-applied annotations,
// owner references, target references and timestamps, often several times the size of
// what matters, and 10 000 Services with their slices are held for the life of the
// process. A field translate starts to read must be kept here (the unit test lists them).
import type {
  V1EndpointConditions,
  V1EndpointSlice,
  V1Endpoint,
  V1ObjectMeta,
  V1Service,
  V1ServiceStatus,
} from '@kubernetes/client-node';
import { TRIGGER_TIME_ANNOTATION } from './store.js';

/** Annotations that carry a copy of the object and are never read. */
const DROPPED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

/**
 * A Service's annotations (schedulers) are read whole; of a slice's, only the change
 * trigger time (network programming latency).
 */
type KeptAnnotations = 'all' | readonly string[];

function slimMeta(m: V1ObjectMeta | undefined, annotations: KeptAnnotations): V1ObjectMeta {
  const out: V1ObjectMeta = {};
  if (m === undefined) return out;
  if (m.namespace !== undefined) out.namespace = m.namespace;
  if (m.name !== undefined) out.name = m.name;
  // Events name the object they are about by uid (kubectl describe matches on it).
  if (m.uid !== undefined) out.uid = m.uid;
  // The store skips an object whose resourceVersion it has; ListWatch resumes from it.
  if (m.resourceVersion !== undefined) out.resourceVersion = m.resourceVersion;
  if (m.labels !== undefined) out.labels = m.labels;
  if (m.annotations !== undefined) {
    const kept = Object.entries(m.annotations).filter(([k]) =>
      annotations === 'all' ? !DROPPED_ANNOTATIONS.includes(k) : annotations.includes(k),
    );
    if (kept.length > 0) out.annotations = Object.fromEntries(kept);
  }
  return out;
}

/** metadata (name, namespace, uid, resourceVersion, labels, annotations), spec, status.loadBalancer. */
export function slimService(s: V1Service): V1Service {
  const out: V1Service = { metadata: slimMeta(s.metadata, 'all') };
  if (s.spec !== undefined) out.spec = s.spec;
  const lb = s.status?.loadBalancer;
  if (lb !== undefined) out.status = { loadBalancer: lb } satisfies V1ServiceStatus;
  return out;
}

/**
 * One shared object per reading of ready, serving and terminating (27 at most): 100 000
 * endpoints hold a handful of condition objects instead of 100 000. A field that is not a
 * boolean is left out, which translate reads as its API default, as it reads the field.
 */
const CONDITIONS = new Map<string, V1EndpointConditions>();
const FLAGS = ['ready', 'serving', 'terminating'] as const;

function sharedConditions(c: V1EndpointConditions): V1EndpointConditions {
  if (typeof c !== 'object' || c === null) return c;
  const key = FLAGS.map((f) => (typeof c[f] === 'boolean' ? String(c[f]) : '-')).join(',');
  let out = CONDITIONS.get(key);
  if (!out) {
    const built: V1EndpointConditions = {};
    for (const f of FLAGS) if (typeof c[f] === 'boolean') built[f] = c[f];
    out = Object.freeze(built);
    CONDITIONS.set(key, out);
  }
  return out;
}

function slimEndpoint(e: V1Endpoint): V1Endpoint {
  // Malformed input is passed on as it is: translate reports it.
  if (typeof e !== 'object' || e === null) return e;
  const { addresses, nodeName } = e;
  // One literal per shape: a property added to an object after its literal goes to a
  // separate backing store, 40 bytes more per endpoint (4.8 MB at 100 000).
  if (e.conditions === undefined)
    return nodeName === undefined ? { addresses } : { addresses, nodeName };
  const conditions = sharedConditions(e.conditions);
  return nodeName === undefined ? { addresses, conditions } : { addresses, conditions, nodeName };
}

/**
 * metadata (name, namespace, uid, resourceVersion, labels, the trigger time annotation),
 * addressType, ports, endpoints' addresses, conditions and node.
 */
export function slimSlice(s: V1EndpointSlice): V1EndpointSlice {
  const out: V1EndpointSlice = {
    metadata: slimMeta(s.metadata, [TRIGGER_TIME_ANNOTATION]),
    addressType: s.addressType,
    endpoints: Array.isArray(s.endpoints) ? s.endpoints.map(slimEndpoint) : s.endpoints,
  };
  if (s.ports !== undefined) out.ports = s.ports;
  return out;
}

// One store for what the sources see: Services by key (namespace/name), EndpointSlices
// grouped by their kubernetes.io/service-name label. Every change marks the affected service
// keys dirty; the reconcile loop takes the dirty keys and asks for the desired virtual servers
// of just those services. Per event the work is O(that service); only a change of the node
// or of the config marks every service.
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import {
  addToGroup,
  keysOf,
  removeFromGroup,
  type SortedKeys,
} from '../collections/sorted-keys.js';
import { canonicalIpText } from '../net/ip.js';
import { serviceVirtualIPs } from '../model/entries.js';
import type { HealthCheck } from '../model/types.js';
import { SERVICE_NAME_LABEL, serviceKey, type ObjectSink } from './sink.js';

export interface TranslateOutput<VS, SK> {
  readonly virtualServers: readonly VS[];
  readonly skipped: readonly SK[];
  /** Fallbacks and assumptions that left nothing out (absent = none). */
  readonly warnings?: readonly SK[];
  /** The Service's health-check node port and local endpoint count, if it has one. */
  readonly healthCheck?: HealthCheck;
}

/**
 * The EndpointSlice controller's annotation: when the change that made it write the slice
 * happened (a Pod became ready, say). kube-proxy measures network programming latency from
 * it to the kernel write; so does kube-ipvs.
 */
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

/** The slice's trigger time in ms since the epoch, or undefined without a valid one. */
export function triggerTimeOf(slice: V1EndpointSlice | undefined): number | undefined {
  const raw = slice?.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION];
  if (typeof raw !== 'string') return undefined;
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? ms : undefined;
}

export interface TranslateContext {
  /** Virtual IPs of every Service in the store (an endpoint at one is not a real server, R7.5). */
  readonly virtualIPs: ReadonlySet<string>;
}

export type TranslateFn<VS, SK, N, C> = (
  service: V1Service,
  slices: readonly V1EndpointSlice[],
  node: N,
  config: C,
  context: TranslateContext,
) => TranslateOutput<VS, SK>;

export { serviceVirtualIPs };

export interface StoreOptions<VS, SK, N, C> {
  translate: TranslateFn<VS, SK, N, C>;
  node: N;
  config: C;
  /**
   * Turns the Node object a source reports into what translate takes. The result is
   * compared by value, so Node status heartbeats that change nothing translate reads do not
   * mark every service dirty. Without it, setNode() from a source is ignored.
   */
  nodeFrom?: (node: V1Node | undefined, current: N) => N;
}

export interface DesiredEntry<VS, SK> extends TranslateOutput<VS, SK> {
  /** False when the service no longer exists: its virtual servers are to be removed. */
  present: boolean;
  readonly warnings: readonly SK[];
}

interface SliceEntry {
  slice: V1EndpointSlice;
  owner: string | undefined;
}

/**
 * The services with endpoints at one address, counted. Nearly every address has one
 * endpoint of one service, held as that service's key alone: a Map per address would
 * cost 100 000 Maps at bench scale.
 */
type Owners = string | Map<string, number>;

/** `owners` with `owner` counted up or down; undefined when none is left. */
function countOwner(owners: Owners | undefined, owner: string, delta: 1 | -1): Owners | undefined {
  if (owners === undefined) return delta > 0 ? owner : undefined;
  const map = typeof owners === 'string' ? new Map([[owners, 1]]) : owners;
  const n = (map.get(owner) ?? 0) + delta;
  if (n > 0) map.set(owner, n);
  else map.delete(owner);
  if (map.size === 0) return undefined;
  const [only] = map;
  return map.size === 1 && only !== undefined && only[1] === 1 ? only[0] : map;
}

function metaKey(o: { metadata?: { namespace?: string; name?: string } }): string {
  return serviceKey(o.metadata?.namespace ?? '', o.metadata?.name ?? '');
}

function sameVersion(
  a: { metadata?: { resourceVersion?: string } } | undefined,
  b: { metadata?: { resourceVersion?: string } },
): boolean {
  const rv = a?.metadata?.resourceVersion;
  return rv !== undefined && rv !== '' && rv === b.metadata?.resourceVersion;
}

export class ServiceStore<VS, SK, N, C> implements ObjectSink {
  private readonly services = new Map<string, V1Service>();
  private readonly slices = new Map<string, SliceEntry>();
  /** Each Service's slices, by slice key (in `slices`). */
  private readonly slicesByService = new Map<string, SortedKeys>();
  private dirty = new Set<string>();
  private readonly listeners = new Set<() => void>();
  /** Reference counts of every Service VIP, kept per event so translate need not scan. */
  private readonly vipRefs = new Map<string, number>();
  private readonly vips = new Set<string>();
  /**
   * Endpoint address (canonical) → owning service → how many endpoints there: when an
   * address becomes or stops being a VIP, the services with an endpoint there translate
   * differently (R7.5), so they are marked too.
   */
  private readonly endpointOwners = new Map<string, Owners>();
  /** Trigger times of slice changes not yet handed to a sync, by owning service key. */
  private readonly triggers = new Map<string, number[]>();
  private node: N;
  private nodeJson: string;
  private config: C;
  /** Counts translate calls, so tests can check per-event work stays per-service. */
  translations = 0;

  constructor(private readonly opts: StoreOptions<VS, SK, N, C>) {
    this.node = opts.node;
    this.nodeJson = JSON.stringify(opts.node);
    this.config = opts.config;
  }

  /** Changes the VIP reference counts; returns the addresses that joined or left the set. */
  private countVips(service: V1Service | undefined, delta: 1 | -1, changed: Set<string>): void {
    for (const ip of serviceVirtualIPs(service)) {
      const n = (this.vipRefs.get(ip) ?? 0) + delta;
      if (n <= 0) {
        this.vipRefs.delete(ip);
        if (this.vips.delete(ip)) changed.add(ip);
      } else {
        this.vipRefs.set(ip, n);
        if (!this.vips.has(ip)) {
          this.vips.add(ip);
          changed.add(ip);
        }
      }
    }
  }

  /** Marks the services that have an endpoint at an address that joined or left the VIPs. */
  private markEndpointOwners(changed: Set<string>): void {
    for (const ip of changed) {
      const owners = this.endpointOwners.get(ip);
      if (typeof owners === 'string') this.mark(owners);
      else if (owners) for (const owner of owners.keys()) this.mark(owner);
    }
  }

  private countEndpoints(
    slice: V1EndpointSlice | undefined,
    owner: string | undefined,
    delta: 1 | -1,
  ): void {
    if (!slice || owner === undefined) return;
    for (const ep of slice.endpoints ?? []) {
      for (const a of ep.addresses ?? []) {
        const ip = canonicalIpText(a);
        if (ip === undefined) continue;
        const owners = countOwner(this.endpointOwners.get(ip), owner, delta);
        if (owners === undefined) this.endpointOwners.delete(ip);
        else this.endpointOwners.set(ip, owners);
      }
    }
  }

  // ---- fed by sources ----

  upsertService(service: V1Service): void {
    const key = metaKey(service);
    const prev = this.services.get(key);
    if (sameVersion(prev, service)) return;
    const changed = new Set<string>();
    this.countVips(prev, -1, changed);
    this.countVips(service, 1, changed);
    this.services.set(key, service);
    this.mark(key);
    this.markEndpointOwners(changed);
  }

  removeService(namespace: string, name: string): void {
    const key = serviceKey(namespace, name);
    const prev = this.services.get(key);
    if (!prev) return;
    const changed = new Set<string>();
    this.countVips(prev, -1, changed);
    this.services.delete(key);
    this.mark(key);
    this.markEndpointOwners(changed);
  }

  upsertSlice(slice: V1EndpointSlice): void {
    const key = metaKey(slice);
    const prev = this.slices.get(key);
    if (prev && sameVersion(prev.slice, slice)) return;
    const label = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    const owner =
      label !== undefined && label !== ''
        ? serviceKey(slice.metadata?.namespace ?? '', label)
        : undefined;
    if (prev?.owner !== undefined && prev.owner !== owner) this.detach(prev.owner, key);
    this.countEndpoints(prev?.slice, prev?.owner, -1);
    this.countEndpoints(slice, owner, 1);
    this.slices.set(key, { slice, owner });
    const trigger = triggerTimeOf(slice);
    // A new trigger time is a new change to program; the same one again is a resend.
    if (owner !== undefined && trigger !== undefined && trigger !== triggerTimeOf(prev?.slice)) {
      const list = this.triggers.get(owner);
      if (list) list.push(trigger);
      else this.triggers.set(owner, [trigger]);
    }
    if (owner !== undefined) {
      addToGroup(this.slicesByService, owner, key);
      this.mark(owner);
    }
  }

  removeSlice(namespace: string, name: string): void {
    const key = serviceKey(namespace, name);
    const prev = this.slices.get(key);
    if (!prev) return;
    this.slices.delete(key);
    this.countEndpoints(prev.slice, prev.owner, -1);
    if (prev.owner !== undefined) this.detach(prev.owner, key);
  }

  setNode(node: V1Node | undefined): void {
    if (!this.opts.nodeFrom) return;
    this.setNodeInfo(this.opts.nodeFrom(node, this.node));
  }

  setNodeInfo(node: N): void {
    const json = JSON.stringify(node);
    this.node = node;
    if (json === this.nodeJson) return;
    this.nodeJson = json;
    this.markAll();
  }

  setConfig(config: C): void {
    this.config = config;
    this.markAll();
  }

  private detach(owner: string, sliceKey: string): void {
    if (!this.slicesByService.has(owner)) return;
    removeFromGroup(this.slicesByService, owner, sliceKey);
    this.mark(owner);
  }

  // ---- dirty tracking ----

  private mark(key: string): void {
    const wasEmpty = this.dirty.size === 0;
    this.dirty.add(key);
    if (wasEmpty) for (const l of this.listeners) l();
  }

  /** Marks every known service (e.g. for a full resync). */
  markAll(): void {
    const wasEmpty = this.dirty.size === 0;
    for (const k of this.services.keys()) this.dirty.add(k);
    if (wasEmpty && this.dirty.size > 0) for (const l of this.listeners) l();
  }

  /** Called when the dirty set goes from empty to non-empty. Returns an unsubscribe function. */
  onDirty(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** The service keys changed since the last call; clears them. */
  takeDirty(): Set<string> {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  /** The trigger times recorded for these services since the last call; clears them. */
  takeTriggerTimes(keys: Iterable<string>): number[] {
    const out: number[] = [];
    for (const k of keys) {
      const t = this.triggers.get(k);
      if (!t) continue;
      out.push(...t);
      this.triggers.delete(k);
    }
    return out;
  }

  get dirtyCount(): number {
    return this.dirty.size;
  }

  // ---- reads ----

  /**
   * Desired virtual servers of the given services (absent ones: present false, none), one
   * at a time as the caller asks: a full resync that takes each into its table as it comes
   * leaves the translations it does not keep to die young, instead of holding 10 000 of
   * them until the last is done (they would outlive the young generation, and the peak).
   */
  *eachDesired(keys: Iterable<string>): Generator<[string, DesiredEntry<VS, SK>]> {
    for (const key of keys) {
      const service = this.services.get(key);
      if (!service) {
        yield [key, { present: false, virtualServers: [], skipped: [], warnings: [] }];
        continue;
      }
      this.translations++;
      const r = this.opts.translate(service, this.slicesOf(key), this.node, this.config, {
        virtualIPs: this.vips,
      });
      yield [
        key,
        {
          present: true,
          virtualServers: r.virtualServers,
          skipped: r.skipped,
          warnings: r.warnings ?? [],
          ...(r.healthCheck ? { healthCheck: r.healthCheck } : {}),
        },
      ];
    }
  }

  /** Desired virtual servers of the given services, all at once. */
  desired(keys: Iterable<string>): Map<string, DesiredEntry<VS, SK>> {
    return new Map(this.eachDesired(keys));
  }

  /** Desired state of every service (render). */
  desiredAll(): Map<string, DesiredEntry<VS, SK>> {
    return this.desired([...this.services.keys()].sort());
  }

  serviceKeys(): string[] {
    return [...this.services.keys()];
  }

  getService(key: string): V1Service | undefined {
    return this.services.get(key);
  }

  slicesOf(key: string): V1EndpointSlice[] {
    const slices: V1EndpointSlice[] = [];
    for (const k of keysOf(this.slicesByService.get(key))) {
      const entry = this.slices.get(k);
      if (entry) slices.push(entry.slice);
    }
    return slices;
  }

  get counts(): { services: number; slices: number } {
    return { services: this.services.size, slices: this.slices.size };
  }

  get currentNode(): N {
    return this.node;
  }

  get currentConfig(): C {
    return this.config;
  }
}

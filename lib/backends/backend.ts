// What the reconcile loop needs of a data plane. The common language is IPVS-shaped
// (virtual servers with real servers, plus the virtual addresses to bind), so the
// desired/observed diff is written once; the iptables backend translates these
// operations into its own chains.
import type { IpvsServiceId } from '../../bindings/ipvs/codec.js';
import type { IpvsEntry } from './ipvs/convert.js';
import type { Op } from '../reconcile/diff.js';
import type { VirtualServerKey } from '../model/types.js';

export type BackendMode = 'ipvs' | 'iptables';

/**
 * IPVS answers only for local addresses, so its virtual addresses are bound on the dummy
 * interface; iptables rules match the addresses without binding them, and its backend takes
 * address operations as done.
 */
export function bindsAddresses(mode: BackendMode): boolean {
  return mode === 'ipvs';
}

export interface ObservedState {
  /** The virtual servers the backend owns, by key, with their real servers. */
  readonly entries: Map<VirtualServerKey, IpvsEntry>;
  /** Virtual addresses bound for Services (the dummy interface's, for IPVS). */
  readonly addresses: Set<string>;
  /** The node's own addresses (for NodePorts): every host address but the virtual ones. */
  readonly nodeAddresses: string[];
}

export type OpResult = { ok: true } | { ok: false; error: Error };

export interface CleanupReport {
  virtualServers: number;
  addresses: number;
  /** Other things removed: the interface, iptables chains. */
  other: string[];
}

export interface Backend {
  readonly mode: BackendMode;
  /**
   * Whether observe() gives real servers' connection counts (IPVS does; iptables cannot).
   * Without them a leaving real server goes at once, and there is nothing to re-read first.
   */
  readonly countsConnections: boolean;
  /**
   * The owned state. `wanted` names keys that are desired now: they are owned whatever
   * their address (a NodePort on an unusual port, say). `remembered` is what the caller
   * already holds: an entry the dump shows unchanged may be given back as that object.
   */
  observe(
    wanted: (key: VirtualServerKey) => boolean,
    remembered?: ReadonlyMap<VirtualServerKey, IpvsEntry>,
  ): Promise<ObservedState>;
  /** Just these virtual servers (after a failure, or to follow draining real servers). */
  observeServices(ids: readonly IpvsServiceId[]): Promise<Map<VirtualServerKey, IpvsEntry>>;
  /** Applies in order; one result per op; a failing op does not stop the others. */
  apply(ops: readonly Op[]): Promise<OpResult[]>;
  /** Removes everything this backend owns, and nothing else. */
  cleanup(): Promise<CleanupReport>;
  close(): void;
}

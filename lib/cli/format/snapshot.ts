// What a listing is rendered from: one consistent read of the IPVS table.

import type {
  IpvsDaemon,
  IpvsDestination,
  IpvsInfo,
  IpvsService,
  IpvsTimeouts,
} from '../../../bindings/ipvs/types.js';

export interface SnapshotEntry {
  service: IpvsService;
  destinations: readonly IpvsDestination[];
}

export interface Snapshot {
  info: IpvsInfo;
  /** In kernel dump order; renderers sort as ipvsadm does unless told not to. */
  services: readonly SnapshotEntry[];
  timeouts: IpvsTimeouts;
  daemons: readonly IpvsDaemon[];
}

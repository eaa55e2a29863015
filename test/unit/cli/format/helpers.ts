// Builders for IPVS objects in renderer tests.
import {
  ZERO_STATS,
  type IpvsDestination,
  type IpvsService,
  type IpvsStats,
} from '../../../../bindings/ipvs/types.js';

export function svc(o: Partial<IpvsService>): IpvsService {
  return {
    family: 2,
    protocol: 6,
    address: '',
    port: 0,
    fwmark: 0,
    scheduler: 'rr',
    flags: 0,
    timeout: 0,
    netmask: 0xffffffff,
    peName: '',
    ...o,
  };
}

export function dest(o: Partial<IpvsDestination>): IpvsDestination {
  return {
    family: 2,
    address: '',
    port: 0,
    forward: 0,
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunType: 0,
    tunPort: 0,
    tunFlags: 0,
    activeConns: 0,
    inactiveConns: 0,
    persistConns: 0,
    ...o,
  };
}

export function stats(o: Partial<IpvsStats>): IpvsStats {
  return { ...ZERO_STATS, ...o };
}

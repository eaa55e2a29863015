// Builders for IPVS objects in renderer tests.
import type { IpvsDestination, IpvsService, IpvsStats } from '../../../../bindings/ipvs/types.js';

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
  return {
    conns: 0n,
    inPackets: 0n,
    outPackets: 0n,
    inBytes: 0n,
    outBytes: 0n,
    cps: 0n,
    inPps: 0n,
    outPps: 0n,
    inBps: 0n,
    outBps: 0n,
    ...o,
  };
}

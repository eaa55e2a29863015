// Planned operations as text: IPVS changes in ipvsadm's save syntax with the command
// letter of each change (-A/-E/-D services, -a/-e/-d real servers), virtual address
// changes as the `ip route` command that would make them (a local route through the
// dummy interface, lib/backends/ipvs/backend.ts).
import type { Op } from '../../reconcile/diff.js';
import { addrPortName } from './names.js';
import { destRule, formatSaveEntry, ruleServiceName } from './save.js';

const NUMERIC = { numeric: true } as const;

export function formatOp(op: Op, iface: string): string {
  switch (op.op) {
    case 'bindAddress':
    case 'unbindAddress': {
      const len = op.address.includes(':') ? 128 : 32;
      const verb = op.op === 'bindAddress' ? 'add' : 'del';
      return `ip route ${verb} local ${op.address}/${len} dev ${iface} table local proto static`;
    }
    case 'addService':
      return formatSaveEntry({ service: op.service, destinations: [] }, NUMERIC).trimEnd();
    case 'updateService':
      return formatSaveEntry({ service: op.service, destinations: [] }, NUMERIC)
        .trimEnd()
        .replace(/^-A /, '-E ');
    case 'deleteService':
      return `-D ${ruleServiceName(op.service, NUMERIC)}`;
    case 'addDestination':
    case 'updateDestination': {
      const s = op.service;
      const d = op.destination;
      const line = destRule(
        ruleServiceName(s, NUMERIC),
        addrPortName(d.family, d.address, d.port, s.protocol, NUMERIC),
        d,
      ).trimEnd();
      return op.op === 'addDestination' ? line : line.replace(/^-a /, '-e ');
    }
    case 'deleteDestination': {
      const s = op.service;
      const d = op.destination;
      const name = addrPortName(d.family ?? s.family, d.address, d.port, s.protocol, NUMERIC);
      return `-d ${ruleServiceName(s, NUMERIC)} -r ${name}`;
    }
  }
}

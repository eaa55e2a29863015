// Name lookups against the running system, gathered before rendering so the renderer stays
// synchronous: reverse DNS via getnameinfo (same NSS path as ipvsadm's gethostbyaddr),
// services from /etc/services (the "files" source getservbyport reads).

import { execFileSync } from 'node:child_process';
import { lookupService } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import type { AddressFamily } from '../../../bindings/ipvs/types.js';
import { ntop } from '../format/inet.js';
import type { NameResolver } from '../format/names.js';
import type { ArgResolver } from './parse.js';
import { at } from '../format/at.js';

interface ServiceEntry {
  name: string;
  port: number;
  proto: string;
  aliases: string[];
}

export function parseServicesFile(text: string): ServiceEntry[] {
  const out: ServiceEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [name, pp, ...aliases] = line.split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(pp ?? '');
    if (!name || !m) continue;
    out.push({ name, port: Number(m[1]), proto: at(m, 2), aliases });
  }
  return out;
}

function loadServices(path = '/etc/services'): ServiceEntry[] {
  try {
    return parseServicesFile(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}

/** First matching entry wins, as getservbyport/getservbyname scan the file. */
export function servicesLookup(entries: ServiceEntry[]): {
  byPort(port: number, proto: string): string | null;
  byName(name: string, proto: string): number | null;
} {
  return {
    byPort: (port, proto) =>
      entries.find((e) => e.port === port && e.proto === proto)?.name ?? null,
    byName: (name, proto) =>
      entries.find((e) => e.proto === proto && (e.name === name || e.aliases.includes(name)))
        ?.port ?? null,
  };
}

/** Reverse-resolve every address up front; unresolvable ones print numerically. */
export async function systemNameResolver(
  addresses: ReadonlyArray<{ family: AddressFamily; address: string }>,
): Promise<NameResolver> {
  const svc = servicesLookup(loadServices());
  const hosts = new Map<string, string | null>();
  const key = (f: AddressFamily, a: string): string => `${f}/${ntop(f, a)}`;
  await Promise.all(
    addresses.map(async ({ family, address }) => {
      const k = key(family, address);
      if (hosts.has(k)) return;
      hosts.set(k, null);
      try {
        const r = await lookupService(ntop(family, address), 0);
        // getnameinfo without NI_NAMEREQD falls back to the numeric form: treat that as no name.
        if (r.hostname && r.hostname !== ntop(family, address)) hosts.set(k, r.hostname);
      } catch {
        // No name: ipvsadm prints the number.
      }
    }),
  );
  return {
    host: (f, a) => hosts.get(key(f, a)) ?? null,
    service: (port, proto) => svc.byPort(port, proto),
  };
}

/** gethostbyname (IPv4 only) and getservbyname for -t/-u/-r/-M arguments. */
export function systemArgResolver(): ArgResolver {
  let svc: ReturnType<typeof servicesLookup> | null = null;
  return {
    hostToIpv4(name: string): string | null {
      if (name === '') return null;
      try {
        const out = execFileSync('getent', ['ahostsv4', name], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
          timeout: 10000,
        });
        const first = out.split('\n')[0]?.split(/\s+/)[0];
        return first && /^\d+\.\d+\.\d+\.\d+$/.test(first) ? first : null;
      } catch {
        return null;
      }
    },
    serviceToPort(name, proto): number | null {
      svc ??= servicesLookup(loadServices());
      return svc.byName(name, proto);
    },
  };
}

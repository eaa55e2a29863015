// model/same: sameVirtualServer is value equality over every field translate sets, so a
// table may keep the object it holds for an equal new one and lose nothing.
import { expect } from 'chai';
import { sameVirtualServer } from '../../../lib/model/same.js';
import { virtualServerKey, type VirtualServer } from '../../../lib/model/types.js';

const full: VirtualServer = {
  key: virtualServerKey('TCP', '203.0.113.7', 443),
  family: 'IPv4',
  protocol: 'TCP',
  address: '203.0.113.7',
  port: 443,
  scheduler: 'sh',
  schedulerFlags: ['flag-1', 'flag-2'],
  persistenceTimeout: 10800,
  netmask: 32,
  trafficPolicy: 'Local',
  sourceRanges: ['198.51.100.0/24'],
  realServers: [
    { address: '10.244.1.5', port: 8443, weight: 1 },
    { address: '10.244.2.6', port: 8443, weight: 1 },
  ],
  owner: {
    namespace: 'web',
    name: 'front',
    portName: 'https',
    servicePort: 443,
    kind: 'LoadBalancer',
  },
};

/** A value of the same type that differs from v. */
function other(v: unknown): unknown {
  if (typeof v === 'number') return v + 1;
  if (typeof v === 'string') return `${v}x`;
  throw new Error(`no other value for ${JSON.stringify(v)}`);
}

type Path = readonly (string | number)[];

/** Every leaf (and every list, lengthened) of the object, as a path to change. */
function paths(v: unknown, at: Path = []): Path[] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v !== null && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]));
  return [at];
}

/** A deep copy of vs with the value at path changed (a list gets one more element). */
function changed(vs: VirtualServer, path: Path): VirtualServer {
  const copy = structuredClone(vs) as unknown as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  const old = parent[last];
  parent[last] = Array.isArray(old) ? [...(old as unknown[]), structuredClone(old[0])] : other(old);
  return copy as unknown as VirtualServer;
}

describe('model/same', () => {
  it('a deep copy is the same virtual server', () => {
    expect(sameVirtualServer(full, structuredClone(full))).to.equal(true);
    const bare: VirtualServer = { ...full, schedulerFlags: [], realServers: [] };
    delete (bare as { sourceRanges?: readonly string[] }).sourceRanges;
    expect(sameVirtualServer(bare, structuredClone(bare))).to.equal(true);
  });

  it('any one field changed, at any depth, makes it another virtual server', () => {
    const all = paths(full);
    // Every field of the type is in the sample, so none can be left out of the comparison.
    expect([...new Set(all.map((p) => p[0]))]).to.have.members(Object.keys(full));
    expect(all.length).to.be.greaterThan(20);
    for (const p of all) {
      const c = changed(full, p);
      expect(sameVirtualServer(full, c), `changed ${p.join('.')}`).to.equal(false);
      expect(sameVirtualServer(c, full), `changed ${p.join('.')}`).to.equal(false);
    }
  });

  it('sourceRanges absent (no restriction) differs from [] (nobody)', () => {
    const open: VirtualServer = { ...full };
    delete (open as { sourceRanges?: readonly string[] }).sourceRanges;
    expect(sameVirtualServer(open, { ...full, sourceRanges: [] })).to.equal(false);
    expect(sameVirtualServer({ ...full, sourceRanges: [] }, open)).to.equal(false);
  });
});

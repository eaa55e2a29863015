// owners/writer: the daemon writes the owner map atomically, and only when an owner came,
// went or changed, never for endpoint churn.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OwnerMapWriter } from '../../../lib/owners/writer.js';
import { parseOwnerMap } from '../../../lib/owners/format.js';
import { DesiredTable } from '../../../lib/reconcile/desired-table.js';
import {
  virtualServerKey,
  type VirtualServer,
  type VirtualServerKey,
} from '../../../lib/model/types.js';

function vs(name: string, address: string, port: number, reals: string[] = []): VirtualServer {
  return {
    key: virtualServerKey('TCP', address, port),
    family: 'IPv4',
    protocol: 'TCP',
    address,
    port,
    scheduler: 'rr',
    schedulerFlags: [],
    persistenceTimeout: 0,
    netmask: 32,
    trafficPolicy: 'Cluster',
    realServers: reals.map((a) => ({ address: a, port: 8080, weight: 1 })),
    owner: { namespace: 'default', name, portName: 'http', servicePort: port, kind: 'ClusterIP' },
  };
}

describe('owners/writer (owner map after each sync that changed it)', function () {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-owners-'));
    file = join(dir, 'run', 'owners.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const read = () => parseOwnerMap(readFileSync(file, 'utf8'));
  const keys = (...k: string[]) => new Set(k as VirtualServerKey[]);

  it('writes on the first full sync (creating the directory), then only when owners change', async function () {
    const warn: string[] = [];
    const w = new OwnerMapWriter({
      file,
      node: 'node-a',
      log: { debug: () => undefined, warn: (_o, m) => warn.push(m) },
    });
    const t = new DesiredTable();
    t.update('default/web', [vs('web', '10.96.0.10', 80, ['10.244.1.5'])]);
    await w.synced(t, 'all');
    expect(w.writes).to.equal(1);
    expect([...read().virtualServers.keys()]).to.deep.equal(['TCP/10.96.0.10:80']);
    // Endpoint churn: the same owners, no write.
    t.update('default/web', [vs('web', '10.96.0.10', 80, ['10.244.1.5', '10.244.2.7'])]);
    await w.synced(t, keys('TCP/10.96.0.10:80'));
    await w.synced(t, 'all');
    expect(w.writes).to.equal(1);
    // A new Service: written, with both.
    const c = t.update('default/api', [vs('api', '10.96.0.11', 443)]);
    await w.synced(t, c.keys);
    expect(w.writes).to.equal(2);
    expect(read().virtualServers.get('TCP/10.96.0.11:443')?.name).to.equal('api');
    // A Service gone: written without it.
    const gone = t.update('default/web', undefined);
    await w.synced(t, gone.keys);
    expect(w.writes).to.equal(3);
    expect([...read().virtualServers.keys()]).to.deep.equal(['TCP/10.96.0.11:443']);
    // Never a temporary file left behind.
    expect(readdirSync(join(dir, 'run'))).to.deep.equal(['owners.json']);
    expect(warn).to.deep.equal([]);
  });

  it('a failed write is a warning (once; the same failure again at debug), never an exception, and is retried after the next sync', async function () {
    const warn: string[] = [];
    const debug: string[] = [];
    // A regular file where the directory should be: mkdir fails.
    const blocked = join(dir, 'file');
    writeFileSync(blocked, '');
    const w = new OwnerMapWriter({
      file: join(blocked, 'owners.json'),
      node: 'n',
      log: { debug: (_o, m) => debug.push(m), warn: (_o, m) => warn.push(m) },
    });
    const t = new DesiredTable();
    t.update('default/web', [vs('web', '10.96.0.10', 80)]);
    await w.synced(t, 'all');
    await w.synced(t, keys());
    expect(w.writes).to.equal(0);
    expect(warn).to.have.length(1);
    expect(warn[0]).to.match(/writing the owner map for lvsadm --k8s failed/);
    expect(debug).to.deep.equal([warn[0]]);
  });
});

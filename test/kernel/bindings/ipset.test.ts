// The ipset binding (nfnetlink) against the UML kernel, each test in its own network
// namespace, cross-checked with the `ipset` tool: what the binding writes the tool lists
// (same members, same set revision as the tool's own sets), and what the tool writes the
// binding reads back. R2.1 (kernel state programmed by netlink, no per-change process).
import { expect } from 'chai';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertInUml } from '../../harness/in-uml.js';
import { run } from '../../harness/exec.js';
import { Netns, deleteAllNetns } from '../../harness/netns.js';
import { bulkEntry } from './ipset-child.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'ipset-child.js');

async function scenario<T>(ns: Netns, name: string): Promise<T> {
  const { stdout } = await ns.node(child, [name], { timeoutMs: 120_000 });
  return JSON.parse(stdout) as T;
}

/** `ipset save` of the namespace: set name → members. */
async function saved(ns: Netns): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const line of (await ns.exec('ipset', ['save'])).stdout.split('\n')) {
    const [op, name = '', entry] = line.split(' ');
    if (op === 'create') out.set(name, []);
    if (op === 'add' && entry !== undefined) out.get(name)?.push(entry);
  }
  for (const m of out.values()) m.sort();
  return out;
}

/** The "Revision: N" of each set in `ipset list -t`. */
async function revisions(ns: Netns): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let name = '';
  for (const line of (await ns.exec('ipset', ['list', '-t'])).stdout.split('\n')) {
    const n = /^Name: (\S+)/.exec(line);
    if (n) name = n[1] ?? '';
    const r = /^Revision: (\d+)/.exec(line);
    if (r) out.set(name, Number(r[1]));
  }
  return out;
}

interface WriteOut {
  differing: { code: string; message: string };
  results: Array<'ok' | { code: string; message: string }>;
  bulkFailed: number;
  delFailed: number;
  counts: Record<string, number>;
}

describe('ipset bindings in the kernel (nfnetlink)', function () {
  this.timeout(180_000);

  before(async () => {
    assertInUml();
    await run('modprobe', ['-a', 'ip_set', 'ip_set_hash_ipport', 'ip_set_hash_ipportip']);
  });
  afterEach(async () => {
    await deleteAllNetns();
  });

  it('creates sets the ipset tool lists at its own revisions, with exactly the members written', async () => {
    const ns = await Netns.create('ipset-write');
    const out = await scenario<WriteOut>(ns, 'write');
    // Each message of a batch has its own outcome; the failing ones do not stop the rest.
    expect(out.results.map((r) => (r === 'ok' ? 'ok' : r.code))).to.deep.equal([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'E4097', // an IPv6 address in an inet set: IPSET_ERR_PROTOCOL
      'ENOENT',
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    const failed = out.results[6];
    expect(failed !== 'ok' && failed?.message).to.equal(
      'ipset add NO-SUCH-SET 10.0.0.1,tcp:80: ENOENT',
    );
    expect(out.differing.code).to.equal('EEXIST');
    expect([out.bulkFailed, out.delFailed]).to.deep.equal([0, 0]);

    const listed = await saved(ns);
    expect(listed.get('T-EXT')).to.deep.equal(
      ['10.96.0.1,tcp:443', '10.96.0.2,udp:53', '10.96.0.3,sctp:9000', '10.96.0.4,tcp:80'].sort(),
    );
    expect(listed.get('T-6-EXT')).to.deep.equal(['fd00:1::5,udp:5353', 'fd00::a,tcp:80'].sort());
    const loop = [
      '10.244.0.5,tcp:8080,10.244.0.5',
      ...Array.from({ length: 20_000 }, (_, i) => i)
        .filter((i) => i % 2 === 0)
        .map(bulkEntry),
    ].sort();
    expect(listed.get('T-LOOP')).to.deep.equal(loop);
    expect(out.counts).to.deep.equal({ 'T-EXT': 4, 'T-LOOP': 10_001, 'T-6-EXT': 2 });

    // The tool's own sets of the same types: ours must be at the same revisions, so the
    // node's tool (and kube-proxy's) can list them.
    await ns.exec('ipset', ['create', 'REF-EXT', 'hash:ip,port', 'family', 'inet']);
    await ns.exec('ipset', ['create', 'REF-LOOP', 'hash:ip,port,ip', 'family', 'inet']);
    const rev = await revisions(ns);
    expect(rev.get('T-EXT')).to.equal(rev.get('REF-EXT'));
    expect(rev.get('T-6-EXT')).to.equal(rev.get('REF-EXT'));
    expect(rev.get('T-LOOP')).to.equal(rev.get('REF-LOOP'));
    const header = (await ns.exec('ipset', ['list', '-t', 'T-LOOP'])).stdout;
    expect(header).to.match(/^Header: family inet .*maxelem 1048576/m);
  });

  it('reads back what the ipset tool wrote, and flushes and destroys sets', async () => {
    const ns = await Netns.create('ipset-read');
    const input = [
      'create R-EXT hash:ip,port family inet maxelem 4096',
      'add R-EXT 10.96.0.1,tcp:443',
      'add R-EXT 10.96.0.2,udp:53',
      'create R-LOOP hash:ip,port,ip family inet',
      'add R-LOOP 10.244.0.5,sctp:9000,10.244.0.5',
      ...Array.from({ length: 3000 }, (_, i) => `add R-LOOP ${bulkEntry(i)}`),
      'create R-6 hash:ip,port family inet6',
      'add R-6 fd00::1,tcp:80',
      'add R-6 fd00:1::5,udp:5353',
      'create R-EMPTY hash:ip,port family inet',
    ].join('\n');
    await ns.exec('ipset', ['restore'], { input: `${input}\n` });
    const r = await scenario<{
      names: string[];
      members: Record<string, string[]>;
      counts: Record<string, number>;
      info: { type: string; revision: number; family: string; elements: number; maxelem: number };
      absent: null;
    }>(ns, 'read');
    const tool = await saved(ns);
    expect(r.names).to.deep.equal(['R-6', 'R-EMPTY', 'R-EXT', 'R-LOOP']);
    for (const n of ['R-EXT', 'R-LOOP', 'R-6']) expect(r.members[n], n).to.deep.equal(tool.get(n));
    expect(r.members).to.not.have.property('NO-SUCH-SET');
    expect(r.members['R-LOOP']).to.have.length(3001);
    expect(r.counts).to.deep.equal({ 'R-EXT': 2, 'R-LOOP': 3001, 'R-6': 2 });
    expect(r.info).to.include({
      type: 'hash:ip,port,ip',
      family: 'inet',
      elements: 3001,
      maxelem: 65536,
      revision: (await revisions(ns)).get('R-LOOP'),
    });
    expect(r.absent).to.equal(null);

    const gone = await scenario<{ afterFlush: Record<string, number>; names: string[] }>(
      ns,
      'remove',
    );
    expect(gone.afterFlush).to.deep.equal({ 'R-6': 0, 'R-EMPTY': 0, 'R-EXT': 0, 'R-LOOP': 0 });
    expect(gone.names).to.deep.equal([]);
    expect((await ns.exec('ipset', ['list', '-n'])).stdout.trim()).to.equal('');
  });
});

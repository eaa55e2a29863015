// bindings/rtnl local routes against the host kernel, in a namespace this test creates:
// the routes RtnlClient adds are the ones iproute2 lists (an independent decoder of the
// same kernel state), its dump decodes what the kernel wrote, and a second delete is
// ESRCH. These routes are how the IPVS backend makes a virtual address local (R1.5).
import { expect } from 'chai';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalRoute } from '../../../bindings/rtnl/codec.js';
import { Netns, deleteAllNetns } from '../../harness/netns.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'rtnl-child.js');
const ADDRESSES = ['10.96.0.10', '10.96.3.7', 'fd00::a'];

describe('bindings/rtnl: local routes through an interface (host kernel, own netns)', function () {
  this.timeout(30_000);
  let ns: Netns;
  const step = async <T>(name: string, addresses: readonly string[] = []): Promise<T> => {
    const r = await ns.node(child, [name, 'd0', ...addresses]);
    return JSON.parse(r.stdout) as T;
  };
  const iproute = async (): Promise<string[]> =>
    [
      ...(await ns.ip(['route', 'show', 'table', 'local', 'dev', 'd0'])).split('\n'),
      ...(await ns.ip(['-6', 'route', 'show', 'table', 'local', 'dev', 'd0'])).split('\n'),
    ]
      .map((l) => l.trimEnd())
      .filter((l) => l.includes('proto static'));

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    ns = await Netns.create('rtnl');
    // The host kernel has no dummy module; any interface that is up carries the routes.
    await ns.ip(['link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']);
    await ns.ip(['link', 'set', 'd0', 'up']);
  });

  after(async function () {
    await deleteAllNetns();
  });

  it('R1.5: adds host routes of type local that iproute2 lists and the kernel delivers locally', async function () {
    expect(await step<string[]>('add', ADDRESSES)).to.deep.equal(['ok', 'ok', 'ok']);
    expect(await iproute()).to.deep.equal([
      'local 10.96.0.10 proto static scope host',
      'local 10.96.3.7 proto static scope host',
      'local fd00::a proto static metric 1024 pref medium',
    ]);
    const get = await ns.ip(['route', 'get', '10.96.3.7']);
    // Delivered locally, with the address itself as the source, as a bound address is.
    expect(get).to.match(/^local 10\.96\.3\.7 dev lo src 10\.96\.3\.7 /);
  });

  it('dumps them back: address, prefix, local table, protocol static, the interface', async function () {
    const routes = await step<LocalRoute[]>('dump');
    const link = (await ns.ip(['-o', 'link', 'show', 'd0'])).split(':')[0];
    const ours = routes.filter((r) => r.protocol === 4);
    expect(ours.map((r) => [r.address, r.prefixLength, r.table, r.index])).to.deep.equal([
      ['10.96.0.10', 32, 255, Number(link)],
      ['10.96.3.7', 32, 255, Number(link)],
      ['fd00::a', 128, 255, Number(link)],
    ]);
  });

  it('deletes them; deleting one that is gone is ESRCH', async function () {
    expect(await step<string[]>('delete', ADDRESSES.slice(0, 2))).to.deep.equal(['ok', 'ok']);
    expect(await step<string[]>('delete', ['10.96.0.10', 'fd00::a'])).to.deep.equal([
      'ESRCH',
      'ok',
    ]);
    expect(await iproute()).to.deep.equal([]);
  });
});

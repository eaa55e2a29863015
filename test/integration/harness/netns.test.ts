// The namespace helpers on the host kernel: two namespaces this test creates, a veth
// between them, TCP and UDP echo across it, and nothing left behind afterwards. No
// traffic or configuration ever touches the host's own namespace.
import { expect } from 'chai';
import { startEcho, stopAllEcho } from '../../harness/echo.js';
import { runClient } from '../../harness/client.js';
import {
  Netns,
  deleteAllNetns,
  listNetns,
  sweepStaleNetns,
  vethPair,
} from '../../harness/netns.js';
import { run } from '../../harness/exec.js';

async function cannotRun(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  try {
    await run('ip', ['-V']);
  } catch {
    return 'iproute2 (ip) is not installed';
  }
  return undefined;
}

describe('harness on the host: network namespaces, veth, echo backends', function () {
  this.timeout(30_000);
  let server: Netns;
  let client: Netns;
  const names: string[] = [];

  before(async function () {
    const reason = await cannotRun();
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
    await sweepStaleNetns();
    server = await Netns.create('srv');
    client = await Netns.create('cli');
    names.push(server.name, client.name);
    await vethPair(server, 'veth-s', client, 'veth-c');
    await server.addAddress('veth-s', '192.0.2.1/24');
    await client.addAddress('veth-c', '192.0.2.2/24');
    await startEcho(server, { name: 'srv', tcpPort: 7000, udpPort: 7001 });
  });

  after(async function () {
    await stopAllEcho();
    await deleteAllNetns();
  });

  it('creates namespaces with lo up and a veth pair between them, not in the root namespace', async function () {
    expect(await listNetns()).to.include.members(names);
    expect(await server.ip(['-o', 'link', 'show', 'lo'])).to.match(/state UNKNOWN|UP/);
    expect(await client.ip(['-o', 'link', 'show', 'veth-c'])).to.include('veth-c@');
    const root = (await run('ip', ['-o', 'link', 'show'])).stdout;
    expect(root).not.to.match(/veth-[sc]@/);
  });

  it('answers TCP across the veth with the client address the server saw', async function () {
    const report = await runClient(client, {
      proto: 'tcp',
      target: '192.0.2.1',
      port: 7000,
      count: 3,
    });
    expect(report.errors).to.deep.equal({});
    expect(report.byBackend).to.deep.equal({ srv: 3 });
    expect(report.clientSeen).to.deep.equal({ srv: ['192.0.2.2'] });
  });

  it('answers UDP across the veth', async function () {
    const report = await runClient(client, {
      proto: 'udp',
      target: '192.0.2.1',
      port: 7001,
      count: 3,
    });
    expect(report.errors).to.deep.equal({});
    expect(report.byBackend).to.deep.equal({ srv: 3 });
    expect(report.clientSeen).to.deep.equal({ srv: ['192.0.2.2'] });
  });

  it('reports failures when nothing listens', async function () {
    const report = await runClient(client, {
      proto: 'tcp',
      target: '192.0.2.1',
      port: 7002,
      count: 2,
      timeoutMs: 1000,
    });
    expect(report.answered).to.equal(0);
    expect(report.errors).to.deep.equal({ ECONNREFUSED: 2 });
  });

  it('deletes every namespace it created', async function () {
    await stopAllEcho();
    await deleteAllNetns();
    const left = await listNetns();
    for (const name of names) expect(left).not.to.include(name);
  });
});

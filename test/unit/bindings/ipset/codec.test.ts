// The ipset codec and client on bytes a real kernel wrote (UML 6.1 fixtures recorded by
// test/kernel/bindings/capture-replies.ts --ipset, sets filled by the ipset tool): the
// expected members and headers are those `ipset save` / `ipset list` printed in each
// fixture's comment, not our writer's output.
import { expect } from 'chai';
import {
  IPSET_CMD_ADD,
  IPSET_CMD_DEL,
  IPSET_CMD_LIST,
  IpsetClient,
  NFNL_SUBSYS_IPSET,
  checkSetName,
  decodeListPart,
  elementRequest,
  elementRequestGeneric,
  entryFamily,
  formatEntry,
  parseEntry,
  readEntry,
  type IpsetChange,
  type IpsetElements,
  type IpsetEntry,
  type IpsetFamily,
  type IpsetResult,
} from '../../../../bindings/ipset/index.js';
import { NetlinkConnection, type Request } from '../../../../bindings/netlink/connection.js';
import { NLM_F_ACK, NLM_F_DUMP } from '../../../../bindings/netlink/constants.js';
import { decodeMessages } from '../../../../bindings/netlink/message.js';
import { FakeSocket, errorReply, sysError, type FakeKernel } from '../netlink/fake-socket.js';
import { kernelReplies, replayKernel } from '../kernel-replies.js';
import { must } from '../must.js';

function bytes(r: Request): Buffer {
  const p = r.payload;
  if (Buffer.isBuffer(p)) return p;
  const b = Buffer.alloc(p.length, 0xee);
  p.write(b, 0);
  return b;
}

function replaying(fixture: string): { c: IpsetClient; sock: () => FakeSocket } {
  let s: FakeSocket | undefined;
  const conn = new NetlinkConnection((cb) => (s = new FakeSocket(cb, replayKernel(fixture))));
  return { c: IpsetClient.fromConnection(conn), sock: () => must(s) };
}

describe('bindings/ipset codec', function () {
  it('parses and prints entries in the text form ipset save uses', function () {
    const cases: Array<[string, IpsetEntry]> = [
      ['10.96.0.1,tcp:443', { ip: '10.96.0.1', proto: 6, port: 443 }],
      ['fd00::1,udp:53', { ip: 'fd00::1', proto: 17, port: 53 }],
      [
        '10.244.0.5,sctp:9000,10.244.0.5',
        { ip: '10.244.0.5', proto: 132, port: 9000, ip2: '10.244.0.5' },
      ],
    ];
    for (const [text, entry] of cases) {
      expect(parseEntry(text)).to.deep.equal(entry);
      expect(formatEntry(entry)).to.equal(text);
    }
    expect(entryFamily('fd00::1,tcp:80,fd00::1')).to.equal('inet6');
    expect(entryFamily('10.0.0.1,tcp:80')).to.equal('inet');
  });

  it('refuses entries ipset would not take, or of the wrong family', function () {
    for (const bad of [
      '10.0.0.1',
      '10.0.0.1,tcp',
      '10.0.0.1,icmp:1',
      '10.0.0.1,tcp:70000',
      '10.0.0.1,tcp:-1',
      '10.0.0.1,tcp:80,x',
      '10.0.0.1,tcp:80,10.0.0.1,10.0.0.2',
      '010.0.0.1,tcp:80',
    ])
      expect(() => parseEntry(bad), bad).to.throw(RangeError);
    expect(() => parseEntry('fd00::1,tcp:80', 'inet')).to.throw(RangeError);
    expect(() => parseEntry('10.0.0.1,tcp:80', 'inet6')).to.throw(RangeError);
    expect(() => checkSetName('A'.repeat(32))).to.throw(RangeError);
    expect(() => checkSetName('a b')).to.throw(RangeError);
  });

  it('writes element requests byte for byte as the generic attribute writer does', function () {
    const cases: Array<[IpsetFamily, string]> = [
      ['inet', '10.96.0.1,tcp:443'],
      ['inet', '10.244.0.5,sctp:9000,10.244.0.5'],
      ['inet6', 'fd00::1,udp:53'],
      ['inet6', 'fd00:1::5,tcp:8080,fd00:1::5'],
    ];
    for (const [family, text] of cases)
      for (const op of ['add', 'del'] as const) {
        const e = parseEntry(text, family);
        const fast = elementRequest(op, 'KUBE-IPVS-LOOP-BACK', family, e);
        const ref = elementRequestGeneric(op, 'KUBE-IPVS-LOOP-BACK', family, e);
        expect(fast.type).to.equal(
          (NFNL_SUBSYS_IPSET << 8) | (op === 'add' ? IPSET_CMD_ADD : IPSET_CMD_DEL),
        );
        expect(fast.type).to.equal(ref.type);
        expect(bytes(fast).toString('hex'), `${op} ${text}`).to.equal(bytes(ref).toString('hex'));
        expect(fast.describe?.()).to.equal(`ipset ${op} KUBE-IPVS-LOOP-BACK ${text}`);
      }
  });

  it("decodes the kernel's LIST dump: headers and members of three sets", function () {
    const parts = kernelReplies('ipset-list-dump')
      .flatMap((d) => decodeMessages(d))
      .filter((m) => m.type === ((NFNL_SUBSYS_IPSET << 8) | IPSET_CMD_LIST))
      .map(decodeListPart);
    expect(parts).to.deep.equal([
      {
        name: 'F-EXT',
        type: 'hash:ip,port',
        revision: 6,
        family: 'inet',
        elements: 2,
        references: 0,
        maxelem: 1048576,
        members: ['10.96.0.2,udp:53', '10.96.0.1,tcp:443'],
      },
      {
        name: 'F-LOOP',
        type: 'hash:ip,port,ip',
        revision: 6,
        family: 'inet',
        elements: 1,
        references: 0,
        maxelem: 65536,
        members: ['10.244.0.5,sctp:9000,10.244.0.5'],
      },
      {
        name: 'F-6',
        type: 'hash:ip,port',
        revision: 6,
        family: 'inet6',
        elements: 1,
        references: 0,
        maxelem: 65536,
        members: ['fd00::1,tcp:80'],
      },
    ]);
  });

  it('reads members, counts and the type revision from kernel replies', async function () {
    const dump = replaying('ipset-list-dump');
    const members = await dump.c.members(['F-EXT']);
    expect([...must(members.get('F-EXT'))].sort()).to.deep.equal([
      '10.96.0.1,tcp:443',
      '10.96.0.2,udp:53',
    ]);
    const [sent] = decodeMessages(must(dump.sock().sent[0]));
    expect(must(sent).type).to.equal((NFNL_SUBSYS_IPSET << 8) | IPSET_CMD_LIST);
    expect(must(sent).flags & NLM_F_DUMP).to.equal(NLM_F_DUMP);

    const header = replaying('ipset-list-header');
    expect(await header.c.counts(['F-LOOP'])).to.deep.equal(new Map([['F-LOOP', 1]]));
    expect(await header.c.info('F-LOOP')).to.deep.equal({
      name: 'F-LOOP',
      type: 'hash:ip,port,ip',
      revision: 6,
      family: 'inet',
      elements: 1,
      references: 0,
      maxelem: 65536,
    });

    // UML 6.1's highest hash:ip,port revision is 6, below the tool's 7: the kernel's wins.
    expect(await replaying('ipset-type').c.revision('hash:ip,port', 'inet')).to.equal(6);
  });

  it('reports a failed element change per message, and leaves an absent set out of a read', async function () {
    const { c } = replaying('ipset-error-enoent');
    const [r] = await c.change([{ op: 'add', set: 'NO-SUCH-SET', entry: '10.0.0.1,tcp:80' }]);
    expect(r?.ok).to.equal(false);
    expect(r && !r.ok && r.error.message).to.equal('ipset add NO-SUCH-SET 10.0.0.1,tcp:80: ENOENT');
    expect(await c.members(['NO-SUCH-SET'])).to.deep.equal(new Map());
    expect(await c.counts(['NO-SUCH-SET'])).to.deep.equal(new Map());
    // An entry that does not parse fails alone, without a message sent for it.
    const [bad] = await c.change([{ op: 'add', set: 'S', entry: 'nonsense' }]);
    expect(bad && !bad.ok && bad.error).to.be.instanceOf(RangeError);
  });

  it('sends element changes a datagram at a time; after lost replies the rest is not sent', async function () {
    let n = 0;
    let s: FakeSocket | undefined;
    const ack: FakeKernel = (d, sock) =>
      n++ === 1
        ? [sysError('ENOBUFS', 105)]
        : decodeMessages(d)
            .filter((m) => m.flags & NLM_F_ACK)
            .map((m) => errorReply(m.seq, sock.portId, 0));
    const c = IpsetClient.fromConnection(
      new NetlinkConnection((cb) => (s = new FakeSocket(cb, ack))),
    );
    must(s).rcvbuf = 2 * 1024;
    const changes = [1, 2, 3, 4, 5, 6].map((i) => ({
      op: 'add' as const,
      set: 'S',
      entry: `10.0.0.${i},tcp:80`,
    }));
    const rs = await c.change(changes);
    expect(must(s).sent.map((d) => decodeMessages(d).length)).to.deep.equal([2, 2]);
    expect(rs.map((r) => (r.ok ? 'ok' : r.error.name))).to.deep.equal([
      'ok',
      'ok',
      'NetlinkRepliesLostError',
      'NetlinkRepliesLostError',
      'NetlinkRepliesLostError',
      'NetlinkRepliesLostError',
    ]);
    expect((rs[5] as { error: Error }).error.message).to.contain('not sent');
  });

  it('changeElements sends what change sends for the same elements given as values, batch after batch', async function () {
    // A kernel that refuses one element (ENOENT) and ACKs the rest; three per datagram.
    const run = async (
      go: (c: IpsetClient) => Promise<IpsetResult[]>,
    ): Promise<{ sent: string[]; results: string[] }> => {
      let s: FakeSocket | undefined;
      const kernel: FakeKernel = (d, sock) =>
        decodeMessages(d).flatMap((m) =>
          m.payload.includes(Buffer.from('10.0.0.5'.split('.').map(Number)))
            ? [errorReply(m.seq, sock.portId, 2)]
            : m.flags & NLM_F_ACK
              ? [errorReply(m.seq, sock.portId, 0)]
              : [],
        );
      const c = IpsetClient.fromConnection(
        new NetlinkConnection((cb) => (s = new FakeSocket(cb, kernel))),
      );
      must(s).rcvbuf = 3 * 1024;
      const results = (await go(c)).map((r) => (r.ok ? 'ok' : r.error.message));
      // Sequence numbers aside (each connection starts its own), the same bytes.
      const sent = must(s).sent.flatMap((d) =>
        decodeMessages(d).map((m) => `${m.type} ${m.flags} ${m.payload.toString('hex')}`),
      );
      return { sent, results };
    };
    const changes: IpsetChange[] = [
      { op: 'del', set: 'S', entry: '10.0.0.1,tcp:80' },
      { op: 'del', set: 'S', entry: '10.0.0.2,udp:53' },
      { op: 'add', set: 'L', entry: '10.0.0.3,tcp:8080,10.0.0.3' },
      { op: 'add', set: 'L', entry: '10.0.0.4,sctp:9,10.0.0.4' },
      { op: 'add', set: 'L', entry: 'nonsense' },
      { op: 'add', set: 'L', entry: '10.0.0.5,tcp:8080,10.0.0.5' },
      { op: 'add', set: 'L6', entry: 'fd00::5,tcp:8080,fd00::5' },
      { op: 'add', set: 'L6', entry: 'fd00::6,udp:1,fd00::7' },
    ];
    // The same changes as batches of one set and operation each (one of them empty).
    const batch = (op: 'add' | 'del', set: string, entries: string[]): IpsetElements => ({
      op,
      set,
      count: entries.length,
      read: (i, e) => readEntry(must(entries[i]), entryFamily(must(entries[i])), e),
    });
    const batches = [
      batch('del', 'S', ['10.0.0.1,tcp:80', '10.0.0.2,udp:53']),
      batch('add', 'S', []),
      batch('add', 'L', [
        '10.0.0.3,tcp:8080,10.0.0.3',
        '10.0.0.4,sctp:9,10.0.0.4',
        'nonsense',
        '10.0.0.5,tcp:8080,10.0.0.5',
      ]),
      batch('add', 'L6', ['fd00::5,tcp:8080,fd00::5', 'fd00::6,udp:1,fd00::7']),
    ];
    const byText = await run((c) => c.change(changes));
    const byValues = await run((c) => c.changeElements(batches));
    expect(byValues).to.deep.equal(byText);
    expect(byText.sent).to.have.length(7);
    expect(byText.results).to.deep.equal([
      'ok',
      'ok',
      'ok',
      'ok',
      'not an ip,proto:port[,ip] entry of family inet: nonsense',
      'ipset add L 10.0.0.5,tcp:8080,10.0.0.5: ENOENT',
      'ok',
      'ok',
    ]);
  });
});

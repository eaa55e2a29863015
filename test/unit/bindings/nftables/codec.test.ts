// The nftables codec and client on bytes a real kernel wrote (fixtures recorded by
// test/kernel/bindings/capture-replies.ts --nftables, chains made by iptables-nft): the
// expected chains are those iptables-nft-save printed in each fixture's comment.
import { expect } from 'chai';
import { NetlinkConnection } from '../../../../bindings/netlink/connection.js';
import { NLM_F_DUMP } from '../../../../bindings/netlink/constants.js';
import { NetlinkDecodeError } from '../../../../bindings/netlink/errors.js';
import { decodeMessages } from '../../../../bindings/netlink/message.js';
import {
  NFPROTO_IPV4,
  NFPROTO_IPV6,
  NftablesClient,
  chainDumpRequest,
  decodeChain,
} from '../../../../bindings/nftables/index.js';
import { FakeSocket, errorReply } from '../netlink/fake-socket.js';
import { kernelReplies, replayKernel } from '../kernel-replies.js';
import { must } from '../must.js';

function replaying(fixture: string): { c: NftablesClient; sock: () => FakeSocket } {
  let s: FakeSocket | undefined;
  const conn = new NetlinkConnection((cb) => (s = new FakeSocket(cb, replayKernel(fixture))));
  return { c: NftablesClient.fromConnection(conn), sock: () => must(s) };
}

describe('bindings/nftables codec and client', function () {
  it('asks for every chain of a family: NFT_MSG_GETCHAIN (0x0a04), nfgenmsg {family, v0, 0}', function () {
    const r = chainDumpRequest(NFPROTO_IPV6);
    expect(r.type).to.equal(0x0a04);
    expect(r.payload).to.deep.equal(Buffer.from([10, 0, 0, 0]));
    expect(chainDumpRequest(NFPROTO_IPV4).payload).to.deep.equal(Buffer.from([2, 0, 0, 0]));
  });

  it("decodes the kernel's NEWCHAIN replies: table and name, as iptables-nft-save lists them", function () {
    const [m] = decodeMessages(must(kernelReplies('nft-chain-dump-ip')[0]));
    expect(decodeChain(must(m))).to.deep.equal({
      family: NFPROTO_IPV4,
      table: 'filter',
      name: 'KUBE-IPVS-REJECT',
    });
  });

  it('a dump through the client: every chain of the family, sent as a dump', async function () {
    const ip = replaying('nft-chain-dump-ip');
    expect(await ip.c.chains(NFPROTO_IPV4)).to.deep.equal([
      { family: NFPROTO_IPV4, table: 'filter', name: 'KUBE-IPVS-REJECT' },
    ]);
    const [sent] = decodeMessages(must(ip.sock().sent[0]));
    expect(must(sent).type).to.equal(0x0a04);
    expect(must(sent).flags & NLM_F_DUMP).to.equal(NLM_F_DUMP);
    const ip6 = replaying('nft-chain-dump-ip6');
    expect(await ip6.c.chains(NFPROTO_IPV6)).to.deep.equal([
      { family: NFPROTO_IPV6, table: 'filter', name: 'KUBE-IPVS-REJECT' },
      { family: NFPROTO_IPV6, table: 'filter', name: 'OTHER' },
    ]);
  });

  it('a refused dump is an error with its errno (the caller then asks iptables-save)', async function () {
    let s: FakeSocket | undefined;
    const conn = new NetlinkConnection(
      (cb) =>
        (s = new FakeSocket(cb, (d, sock) => {
          const [m] = decodeMessages(d);
          return [errorReply(must(m).seq, sock.portId, 1)];
        })),
    );
    const c = NftablesClient.fromConnection(conn);
    let err: unknown;
    try {
      await c.chains(NFPROTO_IPV4);
    } catch (e) {
      err = e;
    }
    expect(must(s).sent).to.have.length(1);
    expect((err as { code?: string }).code).to.equal('EPERM');
  });

  it('refuses a message that is not a chain, or has no nfgenmsg, or no name', function () {
    const chain = must(decodeMessages(must(kernelReplies('nft-chain-dump-ip')[0]))[0]);
    expect(() => decodeChain({ ...chain, type: 0x0a00 })).to.throw(NetlinkDecodeError);
    expect(() => decodeChain({ ...chain, payload: Buffer.from([2, 0]) })).to.throw(
      NetlinkDecodeError,
      /no nfgenmsg/,
    );
    expect(() => decodeChain({ ...chain, payload: Buffer.from([2, 0, 0, 0]) })).to.throw(
      NetlinkDecodeError,
      /without a table or a name/,
    );
  });
});

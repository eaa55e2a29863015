// The transport against replies the kernel really sent (captured by
// test/kernel/bindings/capture-replies.ts --host; see test/fixtures/kernel-replies).
import { expect } from 'chai';
import { NetlinkConnection } from '../../../../bindings/netlink/connection.js';
import {
  GENL_ID_CTRL,
  NLMSG_ERROR,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
} from '../../../../bindings/netlink/constants.js';
import { GenlFamilyNotFoundError } from '../../../../bindings/netlink/errors.js';
import { decodeGenl, resolveFamily } from '../../../../bindings/netlink/genl.js';
import { decodeErrorReply, decodeMessages } from '../../../../bindings/netlink/message.js';
import { classifyOpenFailure } from '../../../../lib/cli/lvsadm/source.js';
import { kernelReplies, replayKernel } from '../kernel-replies.js';
import { must } from '../must.js';
import { FakeSocket } from './fake-socket.js';

function over(fixture: string): NetlinkConnection {
  return new NetlinkConnection((cb) => new FakeSocket(cb, replayKernel(fixture)));
}

describe('netlink decoding of real kernel replies (fixtures)', () => {
  it('an error reply with extended ack: EINVAL, capped, message and offset', () => {
    const [d] = kernelReplies('ctrl-error-extack');
    const [m] = decodeMessages(must(d));
    expect(must(m).type).to.equal(NLMSG_ERROR);
    expect(must(m).flags & (NLM_F_CAPPED | NLM_F_ACK_TLVS)).to.equal(NLM_F_CAPPED | NLM_F_ACK_TLVS);
    expect(decodeErrorReply(must(m))).to.deep.equal({
      errno: 22,
      extAck: 'Attribute failed policy validation',
      // The offending CTRL_ATTR_FAMILY_NAME: after nlmsghdr (16) and genlmsghdr (4).
      extAckOffset: 20,
    });
  });

  it('CTRL_CMD_GETFAMILY "nlctrl": the family message, then an ACK', () => {
    const ds = kernelReplies('ctrl-getfamily-nlctrl');
    expect(ds).to.have.length(2);
    const [fam] = decodeMessages(must(ds[0]));
    expect(must(fam).type).to.equal(GENL_ID_CTRL);
    const g = decodeGenl(must(fam));
    expect(g.cmd).to.equal(1); // CTRL_CMD_NEWFAMILY
    expect(g.attrs.u16(1)).to.equal(GENL_ID_CTRL);
    expect(g.attrs.str(2)).to.equal('nlctrl');
    const [ack] = decodeMessages(must(ds[1]));
    expect(decodeErrorReply(must(ack)).errno).to.equal(0);
  });

  it('resolveFamily reads the family from the real reply', async () => {
    const conn = over('ctrl-getfamily-nlctrl');
    expect(await resolveFamily(conn, 'nlctrl')).to.deep.equal({
      id: GENL_ID_CTRL,
      name: 'nlctrl',
      version: 2,
      maxAttr: 0,
    });
  });

  it('a kernel without IPVS: GenlFamilyNotFoundError, which lvsadm treats as IPVS absent', async () => {
    const err = await resolveFamily(over('ctrl-getfamily-ipvs-absent'), 'IPVS').catch(
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(GenlFamilyNotFoundError);
    expect((err as GenlFamilyNotFoundError).code).to.equal('ENOENT');
    expect(classifyOpenFailure(err)).to.deep.equal({ kind: 'ipvs-absent' });
  });
});

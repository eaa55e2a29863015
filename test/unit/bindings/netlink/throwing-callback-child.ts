// Child process for socket.test.ts: a receive callback that throws must reach
// process 'uncaughtException' (not abort), and the socket must go on receiving.
import { str } from '../../../../bindings/netlink/attributes.js';
import {
  CTRL_ATTR_FAMILY_NAME,
  CTRL_CMD_GETFAMILY,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
  NLM_F_REQUEST,
} from '../../../../bindings/netlink/constants.js';
import { genlPayload } from '../../../../bindings/netlink/genl.js';
import { encodeMessages } from '../../../../bindings/netlink/message.js';
import { NetlinkSocket } from '../../../../bindings/netlink/socket.js';

let received = 0;
let caught = '';
const sock = new NetlinkSocket(NETLINK_GENERIC, () => {
  received += 1;
  if (received === 1) throw new Error('thrown from the netlink callback');
  process.stdout.write(JSON.stringify({ caught, received }) + '\n');
  sock.close();
});

function ask(seq: number): void {
  sock.send(
    encodeMessages([
      {
        type: GENL_ID_CTRL,
        flags: NLM_F_REQUEST,
        seq,
        pid: sock.portId,
        payload: genlPayload(CTRL_CMD_GETFAMILY, 1, [str(CTRL_ATTR_FAMILY_NAME, 'nlctrl')]),
      },
    ]),
  );
}

process.on('uncaughtException', (err) => {
  caught = err.message;
  ask(2);
});
sock.setRef(true);
ask(1);

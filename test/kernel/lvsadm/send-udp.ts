// `node send-udp.js ADDR:PORT...`: one datagram to each target, in one burst, so the IPVS
// connection entries they create expire in step (used by the -c comparison).
import { createSocket } from 'node:dgram';

const sock = createSocket('udp4');
for (const target of process.argv.slice(2)) {
  const i = target.lastIndexOf(':');
  await new Promise<void>((resolve) =>
    sock.send(Buffer.from('x'), Number(target.slice(i + 1)), target.slice(0, i), () => resolve()),
  );
}
sock.close();

// The test backend, run as its own process inside a namespace:
//   node echo-server.js --name NAME [--tcp PORT] [--udp PORT] [--host ADDR] [--lifetime-ms N]
//                       [--keep-open]
// Every TCP connection and every UDP datagram is answered with one JSON line naming this
// backend and the client address it saw, so a test can count who answered and check
// that the client's source address survived. A TCP connection is closed after its reply,
// or with --keep-open kept until the client closes it, answering each line it sends
// (a connection held open through a virtual server, for draining and lc tests). It exits on its own after --lifetime-ms
// and when its parent goes away (stdin closes), so a crashed test leaves nothing running.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';

export interface EchoReply {
  name: string;
  proto: 'tcp' | 'udp';
  client: string;
  clientPort: number;
  /** What the UDP client sent, so it can match replies to datagrams. */
  payload?: string;
}

// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
function plain(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      tcp: { type: 'string' },
      udp: { type: 'string' },
      host: { type: 'string', default: '0.0.0.0' },
      'lifetime-ms': { type: 'string', default: '120000' },
      'keep-open': { type: 'boolean', default: false },
    },
  });
  const name = values.name;
  if (!name || (!values.tcp && !values.udp)) {
    process.stderr.write('usage: echo-server --name NAME [--tcp PORT] [--udp PORT]\n');
    process.exit(2);
  }
  const host = values.host;
  const pending: Promise<void>[] = [];
  const ready: { tcp?: number; udp?: number } = {};

  if (values.tcp) {
    const server = createServer((socket) => {
      const reply: EchoReply = {
        name,
        proto: 'tcp',
        client: plain(socket.remoteAddress ?? ''),
        clientPort: socket.remotePort ?? 0,
      };
      socket.on('error', () => undefined);
      if (!values['keep-open']) {
        socket.end(JSON.stringify(reply) + '\n');
        return;
      }
      socket.write(JSON.stringify(reply) + '\n');
      let buffered = '';
      socket.setEncoding('utf8');
      socket.on('data', (s: string) => {
        buffered += s;
        for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
          buffered = buffered.slice(i + 1);
          socket.write(JSON.stringify(reply) + '\n');
        }
      });
      socket.on('end', () => socket.end());
    });
    pending.push(
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(values.tcp), host, () => {
          const addr = server.address();
          ready.tcp = typeof addr === 'object' && addr ? addr.port : 0;
          resolve();
        });
      }),
    );
  }
  if (values.udp) {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.on('message', (msg, rinfo) => {
      const reply: EchoReply = {
        name,
        proto: 'udp',
        client: plain(rinfo.address),
        clientPort: rinfo.port,
        payload: msg.toString('utf8').slice(0, 200),
      };
      socket.send(JSON.stringify(reply) + '\n', rinfo.port, rinfo.address);
    });
    pending.push(
      new Promise((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(Number(values.udp), host, () => {
          ready.udp = socket.address().port;
          resolve();
        });
      }),
    );
  }
  Promise.all(pending).then(
    () => process.stdout.write(`ready ${JSON.stringify({ name, ...ready })}\n`),
    (err: unknown) => {
      process.stderr.write(`echo-server ${name}: ${String(err)}\n`);
      process.exit(1);
    },
  );
  setTimeout(() => process.exit(0), Number(values['lifetime-ms']));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

main();

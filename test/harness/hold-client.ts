// A TCP connection held open through a virtual server, run as its own process inside a
// namespace:
//   node hold-client.js --target ADDR --port P [--local ADDR] [--timeout-ms T] [--lifetime-ms N]
// Connects (from --local when given) to an echo server started with --keep-open, prints
// its first reply, then on each stdin line "ask" sends a line and prints the next reply;
// "close" (or stdin's end) closes the connection with a FIN, "reset" with a RST. Every output line is one HoldEvent.
// Bounded: each reply waits at most --timeout-ms, the process lives at most --lifetime-ms.
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { EchoReply } from './echo-server.js';

export type HoldEvent =
  { event: 'reply'; reply: EchoReply } | { event: 'closed' } | { event: 'error'; message: string };

function emit(e: HoldEvent): void {
  process.stdout.write(JSON.stringify(e) + '\n');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      port: { type: 'string' },
      local: { type: 'string' },
      'timeout-ms': { type: 'string', default: '3000' },
      'lifetime-ms': { type: 'string', default: '300000' },
    },
  });
  const port = Number(values.port);
  if (!values.target || !Number.isInteger(port)) {
    process.stderr.write('usage: hold-client --target ADDR --port P [--local ADDR]\n');
    process.exit(2);
  }
  const timeoutMs = Number(values['timeout-ms']);
  setTimeout(() => process.exit(3), Number(values['lifetime-ms'])).unref();
  const socket = connect({
    host: values.target,
    port,
    ...(values.local ? { localAddress: values.local } : {}),
  });
  socket.setEncoding('utf8');
  let buffered = '';
  let timer: NodeJS.Timeout | undefined;
  const expectReply = (): void => {
    timer = setTimeout(() => emit({ event: 'error', message: 'timeout' }), timeoutMs);
  };
  expectReply();
  socket.on('data', (s: string) => {
    buffered += s;
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      clearTimeout(timer);
      try {
        emit({ event: 'reply', reply: JSON.parse(line) as EchoReply });
      } catch {
        emit({ event: 'error', message: `bad reply: ${line.slice(0, 100)}` });
      }
    }
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    emit({ event: 'error', message: err.code ?? err.message });
  });
  socket.on('close', () => {
    clearTimeout(timer);
    emit({ event: 'closed' });
    process.exit(0);
  });
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line.trim() === 'ask') {
      expectReply();
      socket.write('again\n');
    } else if (line.trim() === 'close') socket.end();
    else if (line.trim() === 'reset') socket.resetAndDestroy();
  });
  input.on('close', () => socket.end());
}

main();

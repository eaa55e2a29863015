// The test client, run as its own process inside a namespace:
//   node echo-client.js --proto tcp|udp --target ADDR --port P --count N
//                       [--timeout-ms T] [--deadline-ms D] [--concurrency C] [--same-socket]
//                       [--local ADDR]
// Opens N TCP connections (or sends N UDP datagrams, each from a fresh socket so IPVS
// sees N flows, unless --same-socket), bounded in count and time, and prints one JSON
// ClientReport: who answered how often and which client address each backend saw.
import { connect } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';
import { parseArgs } from 'node:util';
import type { EchoReply } from './echo-server.js';

export interface ClientReport {
  proto: 'tcp' | 'udp';
  target: string;
  port: number;
  attempted: number;
  answered: number;
  failed: number;
  /** Replies per backend name. */
  byBackend: Record<string, number>;
  /** Distinct client addresses each backend reported seeing. */
  clientSeen: Record<string, string[]>;
  /** Failure reasons (ECONNREFUSED, timeout, ...) with counts. */
  errors: Record<string, number>;
  elapsedMs: number;
}

function parseReply(text: string): EchoReply {
  const line = text.split('\n').find((l) => l.trim() !== '');
  if (!line) throw new Error('empty reply');
  return JSON.parse(line) as EchoReply;
}

function tcpOnce(
  target: string,
  port: number,
  timeoutMs: number,
  local: string | undefined,
): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target, port, ...(local ? { localAddress: local } : {}) });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      try {
        resolve(parseReply(data));
      } catch {
        reject(new Error('bad reply'));
      }
    };
    socket.setEncoding('utf8');
    // The reply is one line; a server that keeps the connection open (--keep-open) is
    // answered by closing it. Done when closed both ways, so IPVS no longer counts the
    // connection active when the next one starts (lc, sed and nq see only held ones).
    socket.on('data', (s: string) => {
      data += s;
      if (data.includes('\n')) socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(err.code ?? err.message));
    });
    socket.on('close', finish);
  });
}

function udpOnce(
  socket: Socket,
  target: string,
  port: number,
  payload: string,
  timeoutMs: number,
): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: Buffer): void => {
      let reply: EchoReply;
      try {
        reply = parseReply(msg.toString('utf8'));
      } catch {
        return;
      }
      if (reply.payload !== payload) return;
      finish();
      resolve(reply);
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      finish();
      reject(new Error(err.code ?? err.message));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error('timeout'));
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('error', onError);
    };
    socket.on('message', onMessage);
    socket.on('error', onError);
    socket.send(payload, port, target, (err) => {
      if (err) onError(err);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      proto: { type: 'string', default: 'tcp' },
      target: { type: 'string' },
      port: { type: 'string' },
      count: { type: 'string', default: '1' },
      'timeout-ms': { type: 'string', default: '3000' },
      'deadline-ms': { type: 'string', default: '30000' },
      concurrency: { type: 'string', default: '1' },
      'same-socket': { type: 'boolean', default: false },
      local: { type: 'string' },
    },
  });
  const proto = values.proto;
  const target = values.target;
  const port = Number(values.port);
  if ((proto !== 'tcp' && proto !== 'udp') || !target || !Number.isInteger(port)) {
    process.stderr.write('usage: echo-client --proto tcp|udp --target ADDR --port P --count N\n');
    process.exit(2);
  }
  const count = Math.min(Number(values.count), 100_000);
  const timeoutMs = Number(values['timeout-ms']);
  const deadline = Date.now() + Number(values['deadline-ms']);
  const concurrency = Math.max(1, Number(values.concurrency));
  const family = target.includes(':') ? 'udp6' : 'udp4';
  const shared = proto === 'udp' && values['same-socket'] ? createSocket(family) : undefined;
  const report: ClientReport = {
    proto,
    target,
    port,
    attempted: 0,
    answered: 0,
    failed: 0,
    byBackend: {},
    clientSeen: {},
    errors: {},
    elapsedMs: 0,
  };
  const started = Date.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count && Date.now() < deadline) {
      const i = next++;
      report.attempted += 1;
      const left = Math.max(1, Math.min(timeoutMs, deadline - Date.now()));
      try {
        let reply: EchoReply;
        if (proto === 'tcp') {
          reply = await tcpOnce(target, port, left, values.local);
        } else {
          const socket = shared ?? createSocket(family);
          try {
            reply = await udpOnce(socket, target, port, `probe-${process.pid}-${i}`, left);
          } finally {
            if (!shared) socket.close();
          }
        }
        report.answered += 1;
        report.byBackend[reply.name] = (report.byBackend[reply.name] ?? 0) + 1;
        const seen = (report.clientSeen[reply.name] ??= []);
        if (!seen.includes(reply.client)) seen.push(reply.client);
      } catch (err) {
        report.failed += 1;
        const why = err instanceof Error ? err.message : String(err);
        report.errors[why] = (report.errors[why] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
  shared?.close();
  report.elapsedMs = Date.now() - started;
  process.stdout.write(JSON.stringify(report) + '\n');
}

void main();

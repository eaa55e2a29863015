// serve/listener: a port in use is logged once, counted on every attempt, retried with
// backoff, and taken as soon as it is free.
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseBindAddress, RetryingListener } from '../../../lib/serve/listener.js';

function recordingLog() {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, msg, obj });
  return { lines, log: { info: at('info'), warn: at('warn'), debug: at('debug') } };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond(), what).to.equal(true);
}

describe('serve/listener', () => {
  it('parses IP:port and [IPv6]:port', () => {
    expect(parseBindAddress('127.0.0.1:10249')).to.deep.equal({ host: '127.0.0.1', port: 10249 });
    expect(parseBindAddress('[::1]:10256')).to.deep.equal({ host: '::1', port: 10256 });
    expect(parseBindAddress('0.0.0.0:70000')).to.equal(undefined);
    expect(parseBindAddress('localhost')).to.equal(undefined);
  });

  it('a port in use: one warning, a failure counted per attempt, then it listens once freed', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    const { lines, log } = recordingLog();
    let failures = 0;
    const l = new RetryingListener({
      name: 'metrics',
      address: { host: '127.0.0.1', port },
      handler: (_req, res) => res.end('served'),
      log,
      onBindFailure: () => failures++,
      initialBackoffMs: 20,
      maxBackoffMs: 40,
    });
    try {
      l.start();
      await until(() => failures >= 3, 'three failed attempts');
      expect(l.listening).to.equal(false);
      const warnings = lines.filter((x) => x.level === 'warn');
      expect(warnings).to.have.length(1);
      expect(warnings[0]?.obj).to.include({ server: 'metrics', error: 'EADDRINUSE' });
      await new Promise<void>((r) => blocker.close(() => r()));
      await until(() => l.listening, 'listening after the port was freed');
      expect(l.boundPort).to.equal(port);
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(await res.text()).to.equal('served');
    } finally {
      await l.close();
      blocker.close();
    }
  });

  it('an address not on this host is retried the same way, and close() stops the retries', async () => {
    const { lines, log } = recordingLog();
    let failures = 0;
    const l = new RetryingListener({
      name: 'healthz',
      // TEST-NET-1: on no interface of this host.
      address: { host: '192.0.2.77', port: 10256 },
      handler: (_req, res) => res.end(),
      log,
      onBindFailure: () => failures++,
      initialBackoffMs: 10,
      maxBackoffMs: 10,
    });
    l.start();
    await until(() => failures >= 2, 'two failed attempts');
    await l.close();
    const n = failures;
    await new Promise((r) => setTimeout(r, 50));
    expect(failures).to.equal(n);
    expect(lines.filter((x) => x.level === 'warn')[0]?.obj).to.include({
      error: 'EADDRNOTAVAIL',
    });
  });
});

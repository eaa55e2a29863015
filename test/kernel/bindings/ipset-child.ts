// Runs one scenario of the ipset binding tests inside a network namespace (ipsets are per
// netns; the test starts this script under `ip netns exec`). Prints one JSON document.
import { IpsetClient, type IpsetChange, type IpsetResult } from '../../../bindings/ipset/index.js';

const MAX = 1 << 20;

function result(r: IpsetResult): unknown {
  if (r.ok) return 'ok';
  const e = r.error as Error & { code?: string };
  return { code: e.code, message: e.message };
}

/** Element i of the bulk load: 10.(200+j).x.y,tcp:8080,10.(200+j).x.y as the daemon writes them. */
export function bulkEntry(i: number): string {
  const a = `10.${200 + (i % 10)}.${(i >> 8) & 0xff}.${i & 0xff}`;
  return `${a},tcp:8080,${a}`;
}

async function write(c: IpsetClient): Promise<unknown> {
  await c.create({ name: 'T-EXT', type: 'hash:ip,port', family: 'inet', maxelem: MAX });
  await c.create({ name: 'T-LOOP', type: 'hash:ip,port,ip', family: 'inet', maxelem: MAX });
  await c.create({ name: 'T-6-EXT', type: 'hash:ip,port', family: 'inet6', maxelem: MAX });
  // Creating an identical set again is not an error (-exist); a different one is.
  await c.create({ name: 'T-EXT', type: 'hash:ip,port', family: 'inet', maxelem: MAX });
  let differing: unknown = 'ok';
  try {
    await c.create({ name: 'T-EXT', type: 'hash:ip,port', family: 'inet', maxelem: 100 });
  } catch (e) {
    differing = result({ ok: false, error: e as Error });
  }
  const changes: IpsetChange[] = [
    { op: 'add', set: 'T-EXT', entry: '10.96.0.1,tcp:443' },
    { op: 'add', set: 'T-EXT', entry: '10.96.0.2,udp:53' },
    { op: 'add', set: 'T-EXT', entry: '10.96.0.3,sctp:9000' },
    { op: 'add', set: 'T-EXT', entry: '10.96.0.1,tcp:443' }, // already there: fine
    { op: 'del', set: 'T-EXT', entry: '10.96.0.9,tcp:1' }, // not there: fine
    { op: 'add', set: 'T-EXT', entry: 'fd00::1,tcp:80' }, // wrong family for the set
    { op: 'add', set: 'NO-SUCH-SET', entry: '10.0.0.1,tcp:80' },
    { op: 'add', set: 'T-6-EXT', entry: 'fd00::a,tcp:80' },
    { op: 'add', set: 'T-6-EXT', entry: 'fd00:1::5,udp:5353' },
    { op: 'add', set: 'T-LOOP', entry: '10.244.0.5,tcp:8080,10.244.0.5' },
    { op: 'add', set: 'T-EXT', entry: '10.96.0.4,tcp:80' }, // after the failures: still sent
  ];
  const results = (await c.change(changes)).map(result);
  // A bulk load many messages per datagram, then half of it deleted again.
  const bulk = Array.from({ length: 20_000 }, (_, i): IpsetChange => ({
    op: 'add',
    set: 'T-LOOP',
    entry: bulkEntry(i),
  }));
  const bulkFailed = (await c.change(bulk)).filter((r) => !r.ok).length;
  const dels = bulk.filter((_, i) => i % 2 === 1).map((b): IpsetChange => ({ ...b, op: 'del' }));
  const delFailed = (await c.change(dels)).filter((r) => !r.ok).length;
  return {
    differing,
    results,
    bulkFailed,
    delFailed,
    counts: Object.fromEntries(await c.counts(['T-EXT', 'T-LOOP', 'T-6-EXT', 'NO-SUCH-SET'])),
  };
}

async function read(c: IpsetClient): Promise<unknown> {
  const names = ['R-EXT', 'R-LOOP', 'R-6', 'NO-SUCH-SET'];
  const members = await c.members(names);
  return {
    names: (await c.names()).sort(),
    members: Object.fromEntries([...members].map(([n, m]) => [n, [...m].sort()])),
    counts: Object.fromEntries(await c.counts(names)),
    info: await c.info('R-LOOP'),
    absent: (await c.info('NO-SUCH-SET')) ?? null,
  };
}

async function remove(c: IpsetClient): Promise<unknown> {
  for (const n of await c.names()) await c.flush(n);
  const afterFlush = Object.fromEntries(await c.counts(await c.names()));
  for (const n of await c.names()) await c.destroy(n);
  return { afterFlush, names: await c.names() };
}

const scenarios: Record<string, (c: IpsetClient) => Promise<unknown>> = { write, read, remove };

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const fn = scenarios[name];
  if (!fn) throw new Error(`no scenario ${name}`);
  const c = IpsetClient.open();
  try {
    process.stdout.write(`${JSON.stringify(await fn(c))}\n`);
  } finally {
    c.close();
  }
}

if (process.argv[1]?.endsWith('ipset-child.js')) await main();

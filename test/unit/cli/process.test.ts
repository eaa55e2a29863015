// How kube-ipvs and lvsadm end when the world around them fails: a reader that goes away, a
// full disk, a checkout without dist/, a bug. Real processes, real pipes; never a stack trace.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  cpSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const KUBE_IPVS = join(ROOT, 'bin/kube-ipvs.js');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs node with `args`. `stdout` is 'pipe' (collected), a file descriptor, or 'first-chunk':
 * a real pipe (a FIFO; node's own 'pipe' is a socket pair with a far larger buffer) whose
 * reader closes after reading its first chunk, as `| head -1` does.
 */
function runNode(
  args: string[],
  stdout: 'pipe' | 'first-chunk' | number = 'pipe',
  nodeOptions: string[] = [],
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    let reader: number | undefined;
    let fifoDir: string | undefined;
    let childOut: 'pipe' | number = typeof stdout === 'number' ? stdout : 'pipe';
    if (stdout === 'first-chunk') {
      fifoDir = mkdtempSync(join(tmpdir(), 'kube-ipvs-fifo-'));
      const fifo = join(fifoDir, 'out');
      execFileSync('mkfifo', [fifo]);
      reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      childOut = openSync(fifo, 'w');
    }
    const child = spawn(process.execPath, [...nodeOptions, ...args], {
      stdio: ['ignore', childOut, 'pipe'],
      env: { PATH: process.env.PATH ?? '' },
    });
    let out = '';
    let err = '';
    if (reader !== undefined && typeof childOut === 'number') {
      closeSync(childOut);
      const fd = reader;
      const poll = (): void => {
        const buf = Buffer.alloc(4096);
        let n = 0;
        try {
          n = readSync(fd, buf, 0, buf.length, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        }
        if (n === 0) {
          setTimeout(poll, 5);
          return;
        }
        out += buf.toString('utf8', 0, n);
        closeSync(fd);
      };
      poll();
    }
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (fifoDir) rmSync(fifoDir, { recursive: true, force: true });
      resolve({ code, stdout: out, stderr: err });
    });
  });
}

/** One Service with `n` ready endpoints: about 45 bytes of render output per endpoint. */
function bigManifest(n: number): string {
  let s =
    'apiVersion: v1\nkind: Service\nmetadata: {name: big}\nspec:\n  clusterIP: 10.96.0.30\n' +
    '  ports: [{port: 80, targetPort: 8080}]\n---\n' +
    'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n' +
    'metadata: {name: big-1, labels: {kubernetes.io/service-name: big}}\n' +
    'addressType: IPv4\nports: [{port: 8080}]\nendpoints:\n';
  for (let i = 0; i < n; i++) {
    s += `- {addresses: [10.1.${(i >> 8) & 255}.${i & 255}], conditions: {ready: true}}\n`;
  }
  return s;
}

/** A script that runs lvsadm's main on a fixed snapshot of `n` services with 20 real servers each. */
function lvsadmScript(n: number): string {
  const dist = join(ROOT, 'dist');
  return `
import { main } from ${JSON.stringify(join(dist, 'lib/cli/lvsadm.js'))};
import { staticSource } from ${JSON.stringify(join(dist, 'lib/cli/lvsadm/source.js'))};
import { NO_NAMES } from ${JSON.stringify(join(dist, 'lib/cli/format/names.js'))};
import { NO_ARG_NAMES } from ${JSON.stringify(join(dist, 'lib/cli/lvsadm/parse.js'))};
import { svc, dest } from ${JSON.stringify(join(dist, 'test/unit/cli/format/helpers.js'))};
const services = [];
for (let i = 0; i < ${n}; i++) {
  const destinations = [];
  for (let j = 0; j < 20; j++) destinations.push(dest({ address: '10.2.' + (i % 250) + '.' + j, port: 8080 }));
  services.push({ service: svc({ address: '10.96.' + (i >> 8) + '.' + (i & 255), port: 80 }), destinations });
}
const snapshot = { info: { version: 0x010201, connTableSize: 4096 }, timeouts: { tcp: 900, tcpFin: 120, udp: 300 }, daemons: [], services };
await main([process.argv[0], 'lvsadm', ...process.argv.slice(2)], {
  openSource: async () => staticSource(snapshot, ''),
  argNames: NO_ARG_NAMES,
  names: async () => NO_NAMES,
  modprobe: async () => ({ ok: false, stderr: '' }),
});
`;
}

describe('kube-ipvs and lvsadm as processes: no stack trace, ever', function () {
  this.timeout(30000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-process-'));
    mkdirSync(join(dir, 'big'));
    writeFileSync(join(dir, 'big', 'big.yaml'), bigManifest(3000));
    writeFileSync(join(dir, 'lvsadm.mjs'), lvsadmScript(400));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const render = ['render', '--manifests', '', '--node-name', 'node-a'];
  // What render says it assumed, on stderr before anything else.
  const ASSUMED =
    'warning: rendering for node "node-a" (from --node-name), no node addresses (--node-addresses)\n';
  const renderBig = () => render.map((a) => (a === '' ? join(dir, 'big') : a));

  it('render | head -1: the reader leaving (EPIPE) ends the output quietly, exit 0', async () => {
    const r = await runNode([KUBE_IPVS, ...renderBig()], 'first-chunk');
    expect(r.stdout.startsWith('-A -t 10.96.0.30:80 -s rr\n')).to.equal(true);
    expect(r.stderr).to.equal(ASSUMED);
    expect(r.code).to.equal(0);
  });

  it('render > /dev/full: one line naming the failure (ENOSPC), exit 1', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = await runNode([KUBE_IPVS, ...renderBig()], fd);
      expect(r.stderr).to.equal(`${ASSUMED}kube-ipvs: writing output: no space left on device\n`);
      expect(r.code).to.equal(1);
    } finally {
      closeSync(fd);
    }
  });

  it('lvsadm -Ln | head -1 on a big table: quiet, exit 0', async () => {
    const r = await runNode([join(dir, 'lvsadm.mjs'), '-Ln'], 'first-chunk');
    expect(r.stdout.startsWith('IP Virtual Server version 1.2.1 (size=4096)\n')).to.equal(true);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
  });

  it('lvsadm -Ln > /dev/full: one line, exit 1', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = await runNode([join(dir, 'lvsadm.mjs'), '-Ln'], fd);
      expect(r.stderr).to.equal('lvsadm: writing output: no space left on device\n');
      expect(r.code).to.equal(1);
    } finally {
      closeSync(fd);
    }
  });

  it('bin/ wrappers in a checkout without dist/ say what to run, exit 1', async () => {
    const checkout = join(dir, 'checkout');
    cpSync(join(ROOT, 'bin'), join(checkout, 'bin'), { recursive: true });
    for (const [name, program] of [
      ['kube-ipvs.js', 'kube-ipvs'],
      ['lvsadm.js', 'lvsadm'],
    ] as const) {
      const r = await runNode([join(checkout, 'bin', name), '--help']);
      expect(r.stderr).to.equal(
        `${program}: dist/ is missing: run npm run build (npm ci builds the native addon)\n`,
      );
      expect(r.code).to.equal(1);
    }
  });

  // A bug is simulated by a preloaded module that breaks readdir (which render calls).
  const breakReaddir = (body: string): string[] => [
    '--import',
    'data:text/javascript,' +
      encodeURIComponent(
        "import fsp from 'node:fs/promises'; import { syncBuiltinESMExports } from 'node:module';" +
          `const real = fsp.readdir; fsp.readdir = (...a) => { ${body} }; syncBuiltinESMExports();`,
      ),
  ];

  it('an unexpected exception in a command: one line "internal error", exit 70', async () => {
    const r = await runNode(
      [KUBE_IPVS, ...render.map((a) => (a === '' ? dir : a))],
      'pipe',
      breakReaddir("throw new TypeError('boom');"),
    );
    expect(r.stderr).to.equal(`${ASSUMED}kube-ipvs: internal error: boom\n`);
    expect(r.code).to.equal(70);
  });

  it('an exception thrown outside any command (a stray callback): the same one line, exit 70', async () => {
    const r = await runNode(
      [KUBE_IPVS, ...render.map((a) => (a === '' ? dir : a))],
      'pipe',
      breakReaddir("setImmediate(() => { throw new Error('late'); }); return real(...a);"),
    );
    expect(r.stderr).to.equal(`${ASSUMED}kube-ipvs: internal error: late\n`);
    expect(r.code).to.equal(70);
  });
});

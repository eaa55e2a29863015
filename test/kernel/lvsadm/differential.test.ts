// lvsadm against the real ipvsadm 1.31, byte for byte (stdout, stderr, exit code), over
// random IPVS states programmed with ipvsadm itself. Runs inside UML, in UML's root
// namespace: this file flushes the table before and after and removes the dummy device
// it adds. Seed: KUBE_IPVS_LVSADM_SEED (logged); states: KUBE_IPVS_LVSADM_STATES (default 200).
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { expect } from 'chai';
import { assertInUml } from '../../harness/in-uml.js';
import { Netns, deleteAllNetns } from '../../harness/netns.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../harness/exec.js';
import { runLvsadm, systemDeps, type LvsadmResult } from '../../../lib/cli/lvsadm.js';
import { generateState, rng, ROUTED_V4_OCTETS } from './generator.js';
import { unifiedDiff } from './diff.js';

const IPVSADM = '/usr/sbin/ipvsadm';
const DEV = 'lvsdiff0';

function ipvsadm(args: readonly string[], input = ''): Promise<LvsadmResult> {
  return new Promise((resolve, reject) => {
    // argv0 makes ipvsadm name itself "lvsadm" in usage and try-help messages.
    const child = spawn(IPVSADM, args, { argv0: 'lvsadm', stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code: code ?? (signal === 'SIGSEGV' ? 139 : 128) });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

function lvsadm(args: readonly string[]): Promise<LvsadmResult> {
  return runLvsadm('lvsadm', args, systemDeps);
}

function describeDiff(args: readonly string[], want: LvsadmResult, got: LvsadmResult): string {
  const parts = [`args: ${JSON.stringify(args)}`];
  if (want.code !== got.code) parts.push(`exit: ipvsadm ${want.code}, lvsadm ${got.code}`);
  if (want.stdout !== got.stdout)
    parts.push(unifiedDiff(want.stdout, got.stdout, 'ipvsadm stdout', 'lvsadm stdout'));
  if (want.stderr !== got.stderr)
    parts.push(unifiedDiff(want.stderr, got.stderr, 'ipvsadm stderr', 'lvsadm stderr'));
  return parts.join('\n');
}

function same(a: LvsadmResult, b: LvsadmResult): boolean {
  return a.code === b.code && a.stdout === b.stdout && a.stderr === b.stderr;
}

/**
 * Compare back to back. Rates, counters and connection expiry tick between reads, so a
 * retryable listing is read ipvsadm / lvsadm / ipvsadm and passes when lvsadm equals
 * either ipvsadm read (a real ipvsadm output of a moment next to it); up to five rounds.
 */
async function compare(args: readonly string[], retryable: boolean): Promise<string | null> {
  let want = await ipvsadm(args);
  let got = await lvsadm(args);
  for (let round = 0; retryable && round < 5 && !same(want, got); round++) {
    const before = await ipvsadm(args);
    got = await lvsadm(args);
    const after = await ipvsadm(args);
    want = same(before, got) ? before : after;
  }
  return same(want, got) ? null : describeDiff(args, want, got);
}

const LISTINGS: string[][] = [
  ['-Ln'],
  ['-L', '-n', '--stats'],
  ['-Ln', '--rate'],
  ['-Ln', '--stats', '--exact'],
  ['-Ln', '--rate', '--exact'],
  ['-Ln', '--exact'],
  ['-Ln', '--thresholds'],
  ['-Ln', '--persistent-conn'],
  ['-Ln', '--tun-info'],
  ['-Ln', '--nosort'],
  ['-ln', '--sort'],
  ['--list', '--numeric', '--stats', '--nosort'],
  ['-S', '-n'],
  ['--save', '--numeric'],
  ['-L', '--timeout'],
  ['-L', '--daemon'],
];

const CONN_LISTINGS: string[][] = [
  ['-Lnc'],
  ['-Lnc', '--persistent-conn'],
  ['-Lc'],
  ['-L', '-c', '-n'],
];

const NON_NUMERIC: string[][] = [[], ['-L'], ['-S'], ['-L', '--stats']];

// Option errors: all fail before any kernel call in both tools.
const BAD: string[][] = [
  ['--bogus'],
  ['-L', '--bogus'],
  ['-Lq'],
  ['-Lt'],
  ['-L', '-t'],
  ['-L', '-A'],
  ['-LA'],
  ['-L', '-h'],
  ['-L', '-v'],
  ['-L', '--start-daemon', 'master'],
  ['-L', '-c', '--stats'],
  ['-L', '--timeout', '--daemon'],
  ['-L', '--timeout', '--persistent-conn'],
  ['-L', '-c', '-t', '1.2.3.4:80'],
  ['-L', '-6'],
  ['-L', 'junk'],
  ['-L', '--', 'junk'],
  ['-L', '-'],
  ['-L', '-t', '1.2.3.4:99999'],
  ['-L', '-t', '12345'],
  ['-L', '-t', '[1.2.3.4'],
  ['-L', '-t', '[fd00::1]80'],
  ['-L', '-f', '0'],
  ['-L', '-f', '-1'],
  ['-L', '-f', '4294967296'],
  ['-L', '-f', 'x'],
  ['-L', '-n', '-n'],
  ['-L', '--stats', '--stats'],
  ['-L', '-s', 'rr'],
  ['-L', '-p'],
  ['-L', '-M', '1'],
  ['-L', '-r', '1.2.3.4'],
  ['-L', '-w', '1'],
  ['-L', '-o'],
  ['-L', '--pe', 'sip'],
  ['-L', '-b', 'sh-port'],
  ['-L', '-b', 'bogus'],
  ['-L', '-b', 'flag-1'],
  ['-L', '--tun-type', 'gre'],
  ['-L', '--tun-type', 'bogus'],
  ['-L', '--mcast-group', '1.2.3.4'],
  ['-L', '--mcast-port', '0'],
  ['-L', '--syncid', '256'],
  ['-S', '--stats'],
  ['-S', '-t', '1.2.3.4:80'],
  ['-C', '-n'],
  ['-Z', '-n'],
  ['-A', '-t', '1.2.3.4:0'],
  ['-A', '-t', '1.2.3.4:80', '-o'],
  ['-A', '-u', '1.2.3.4:80', '-p', '0'],
  ['-A', '-u', '1.2.3.4:80', '-s', 'rr', '-b', 'sh-port'],
  ['-A'],
  ['-a', '-t', '1.1.1.1:80', '-r', '[::1]:80', '-m'],
  ['-a', '-t', '1.1.1.1:80', '-r', '1.1.1.2:80', '-m', '--tun-type', 'gre'],
  ['-a', '-t', '1.1.1.1:80', '-r', '1.1.1.2:80', '-i', '--tun-type', 'gue'],
  [
    '-a',
    '-t',
    '1.1.1.1:80',
    '-r',
    '1.1.1.2:80',
    '-i',
    '--tun-type',
    'gre',
    '--tun-csum',
    '--tun-nocsum',
  ],
  ['-a', '-t', '1.1.1.1:80', '-w', '70000'],
  ['-a', '-t', '1.1.1.1:80', '-w', '-1'],
  ['-a', '-t', '1.1.1.1:80', '-w', '2147483648'],
  ['-d', '-t', '1.1.1.1:80'],
  ['--set', '1', '2'],
  ['--set', '1', '2', 'x'],
  ['--set', '1', '2', '3', '4'],
  ['--start-daemon', 'foo'],
  ['--stop-daemon', 'foo'],
  ['--start-daemon'],
  ['-n', '-L'],
  ['junk'],
  ['-v'],
  ['--version'],
  ['-h'],
  ['--help'],
  ['-L', '-t=1.2.3.4:80'],
  ['-Lt1.2.3.4:80'],
  ['-L', '--tcp-service=1.2.3.4:80'],
  ['-L', '-u', '[1.2.3.4]:80'],
  ['-L', '-t', '1.2.3.4:http'],
  ['-L', '-f', '5', '-6'],
  ['-L', '-n', '-t', '[fd00::1]:80'],
];

describe('lvsadm vs ipvsadm 1.31 on random IPVS states (differential, R17.4)', function () {
  this.timeout(40 * 60_000);
  const seed = Number(process.env.KUBE_IPVS_LVSADM_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const states = Number(process.env.KUBE_IPVS_LVSADM_STATES ?? 200);

  before(async function () {
    assertInUml();
    process.stdout.write(`      lvsadm differential: seed ${seed}, ${states} states\n`);
    await ipvsadm(['-C']);
    await run('ip', ['link', 'add', DEV, 'type', 'dummy']);
    await run('ip', ['link', 'set', DEV, 'up']);
    await run('ip', ['addr', 'add', '198.18.0.1/24', 'dev', DEV]);
    for (const o of ROUTED_V4_OCTETS) await run('ip', ['route', 'add', `${o}.0.0.0/8`, 'dev', DEV]);
  });

  after(async function () {
    await ipvsadm(['-C']);
    await ipvsadm(['--stop-daemon', 'master']);
    await ipvsadm(['--stop-daemon', 'backup']);
    await run('ip', ['link', 'del', DEV]).catch(() => undefined);
  });

  it('matches ipvsadm on option errors, -h and -v', async function () {
    const failures: string[] = [];
    for (const args of BAD) {
      const d = await compare(args, false);
      if (d) failures.push(d);
    }
    expect(failures, failures.join('\n\n')).to.deep.equal([]);
  });

  it(`matches ipvsadm listings over random states (seed logged)`, async function () {
    const rand = rng(seed);
    const failures: string[] = [];
    let restoreErrors = 0;
    for (let k = 0; k < states && failures.length < 5; k++) {
      const st = generateState(rand);
      await ipvsadm(['-C']);
      const r = await ipvsadm(['-R'], st.lines.join('\n') + '\n');
      if (r.stderr) restoreErrors++;
      // A few datagrams through IPVS give non-zero counters and connection entries.
      const sock = createSocket('udp4');
      for (const s of st.services) {
        const target = s.udpTarget;
        if (!target) continue;
        for (let i = 0; i <= k % 3; i++) {
          await new Promise<void>((res) =>
            sock.send(Buffer.from('x'), target.port, target.address, () => res()),
          );
        }
      }
      sock.close();
      if (k % 50 === 7) {
        await ipvsadm([
          '--start-daemon',
          k % 100 === 7 ? 'master' : 'backup',
          '--mcast-interface',
          'lo',
          '--syncid',
          String(k % 256),
        ]);
      }
      const combos: Array<{ args: string[]; retry: boolean }> = LISTINGS.map((args) => ({
        args,
        // Persistence templates expire (1 s at least) between two reads, as counters tick.
        retry: args.some((a) => /rate|stats|persistent-conn/.test(a)),
      }));
      for (const s of st.services.slice(0, 2)) {
        combos.push({ args: ['-Ln', ...s.selector], retry: false });
        combos.push({ args: ['-L', '-n', '--stats', ...s.selector], retry: true });
        combos.push({ args: ['-l', '--numeric', '--tun-info', ...s.selector], retry: false });
      }
      combos.push({ args: ['-Ln', '-t', '9.9.9.9:9'], retry: false });
      combos.push({ args: ['-Ln', '-f', '4294967295', '-6'], retry: false });
      if (k % 20 === 0) {
        for (const args of NON_NUMERIC) combos.push({ args, retry: true });
      }
      for (const c of combos) {
        const d = await compare(c.args, c.retry);
        if (d) failures.push(`state ${k} (seed ${seed}):\n${st.lines.join('\n')}\n${d}`);
      }
    }
    process.stdout.write(
      `      ${states} states compared; ipvsadm -R reported errors in ${restoreErrors}\n`,
    );
    expect(failures, failures.join('\n\n')).to.deep.equal([]);
  });

  it('matches ipvsadm -c over fresh connections in a namespace of its own', async function () {
    // Each connection entry ticks down once a second at its own phase; a fresh namespace
    // whose entries were all created in one burst keeps them in step, so a back-to-back
    // ipvsadm / lvsadm / ipvsadm read pins lvsadm between two real outputs.
    const here = dirname(fileURLToPath(import.meta.url));
    const bin = join(here, '../../../../bin/lvsadm.js');
    const sender = join(here, 'send-udp.js');
    const rand = rng(seed ^ 0x5eed);
    const failures: string[] = [];
    let entries = 0;
    for (let round = 0; round < 8; round++) {
      const ns = await Netns.create('lvsadm-c');
      try {
        await ns.addDummy('d0');
        await ns.addAddress('d0', '198.18.0.1/24');
        for (const o of ROUTED_V4_OCTETS) await ns.addRoute(`${o}.0.0.0/8`, { dev: 'd0' });
        const st = generateState(rand);
        await ns
          .exec(IPVSADM, ['-R'], { input: st.lines.join('\n') + '\n' })
          .catch(() => undefined);
        const targets = st.services.flatMap((s) =>
          s.udpTarget ? [`${s.udpTarget.address}:${s.udpTarget.port}`] : [],
        );
        if (targets.length) await ns.node(sender, targets);
        const ipv = async (args: string[]): Promise<LvsadmResult> => {
          const r = await ns.exec(IPVSADM, args);
          return { stdout: r.stdout, stderr: r.stderr, code: 0 };
        };
        const lvs = async (args: string[]): Promise<LvsadmResult> => {
          const r = await ns.node(bin, args);
          return { stdout: r.stdout, stderr: r.stderr, code: 0 };
        };
        for (const args of CONN_LISTINGS) {
          let ok = false;
          let last = '';
          for (let k = 0; k < 5 && !ok; k++) {
            const before = await ipv(args);
            const got = await lvs(args);
            const after = await ipv(args);
            ok = same(before, got) || same(after, got);
            if (!ok) last = describeDiff(args, after, got);
            entries = Math.max(entries, before.stdout.split('\n').length - 3);
          }
          if (!ok) failures.push(`round ${round} (seed ${seed}):\n${st.lines.join('\n')}\n${last}`);
        }
      } finally {
        await ns.delete();
      }
    }
    await deleteAllNetns();
    process.stdout.write(`      -c compared over 8 namespaces, up to ${entries} entries\n`);
    expect(failures, failures.join('\n\n')).to.deep.equal([]);
  });

  it('refuses write commands and leaves the table unchanged', async function () {
    await ipvsadm(['-C']);
    await ipvsadm(['-R'], '-A -t 1.2.3.4:80 -s rr\n-a -t 1.2.3.4:80 -r 1.2.3.5:80 -m -w 2\n');
    const before = await ipvsadm(['-S', '-n']);
    for (const args of [
      ['-C'],
      ['-A', '-t', '5.6.7.8:80'],
      ['-D', '-t', '1.2.3.4:80'],
      ['-E', '-t', '1.2.3.4:80', '-s', 'wrr'],
      ['-a', '-t', '1.2.3.4:80', '-r', '1.2.3.6:80', '-m'],
      ['-e', '-t', '1.2.3.4:80', '-r', '1.2.3.5:80', '-m', '-w', '9'],
      ['-d', '-t', '1.2.3.4:80', '-r', '1.2.3.5:80'],
      ['-Z'],
      ['--set', '1', '2', '3'],
      ['--start-daemon', 'master'],
      ['--stop-daemon', 'master'],
      ['-R'],
    ]) {
      const r = await lvsadm(args);
      expect(r.code, args.join(' ')).to.not.equal(0);
      expect(r.stdout).to.equal('');
      expect(r.stderr.split('\n').filter(Boolean)).to.have.length(1);
      expect(r.stderr).to.contain('kube-ipvs owns the IPVS table');
    }
    const after = await ipvsadm(['-S', '-n']);
    expect(after.stdout).to.equal(before.stdout);
    expect((await ipvsadm(['-L', '--timeout'])).stdout).to.equal(
      'Timeout (tcp tcpfin udp): 900 120 300\n',
    );
  });
});

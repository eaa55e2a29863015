// lvsadm option handling: messages, streams and exit codes observed from ipvsadm 1.31 in UML.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runLvsadm, type LvsadmDeps } from '../../../lib/cli/lvsadm.js';
import { NO_NAMES } from '../../../lib/cli/format/names.js';
import { NO_ARG_NAMES } from '../../../lib/cli/lvsadm/parse.js';
import { kernelSource, staticSource } from '../../../lib/cli/lvsadm/source.js';
import { GenlFamilyNotFoundError, NetlinkError } from '../../../bindings/netlink/errors.js';
import { captured } from './format/list.test.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '../../../../test/unit/cli/format/fixtures');

let opened = 0;
const deps: LvsadmDeps = {
  openSource: () => {
    opened++;
    return Promise.resolve(
      staticSource(
        {
          ...captured,
          daemons: [
            {
              state: 1,
              mcastIfn: 'lo',
              syncId: 0,
              syncMaxLen: 1472,
              mcastGroup: '224.0.0.81',
              mcastPort: 8848,
              mcastTtl: 1,
            },
          ],
        },
        'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n',
      ),
    );
  },
  argNames: NO_ARG_NAMES,
  names: () => Promise.resolve(NO_NAMES),
  modprobe: () => Promise.resolve({ ok: false, stderr: '' }),
  // Only --k8s reads the owner map.
  readOwners: () => Promise.reject(new Error('the owner map was read without --k8s')),
};

const run = (...args: string[]) => runLvsadm('ipvsadm', args, deps);

describe('lvsadm command line (ipvsadm 1.31 compatible)', function () {
  // Each row: args, stderr, exit code — as ipvsadm printed them inside UML.
  const errors: Array<[string[], string, number]> = [
    [['--bogus'], "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n", 255],
    [['-L', '--bogus'], '--bogus: unknown option\n', 255],
    [['-Lt'], '-Lt: missing argument\n', 255],
    [['-L', '-h'], "invalid option `-h'\n", 2],
    [['-L', '--start-daemon', 'master'], "invalid option `master'\n", 2],
    [['-L', '-6'], '-6 used before -f\n\n', 2],
    [['-L', '-c', '--stats'], 'options conflicts in the list command\n', 2],
    [['-L', '--timeout', '--persistent-conn'], 'options conflicts in the list command\n', 2],
    [['-L', '-b', 'sh-port'], "incompatible scheduler flag `sh-port'\n", 2],
    [['-Ln', 'junk'], 'unexpected argument junk\n', 2],
    [['-L', '-w', '5'], "Illegal 'weight' option with the 'list' command\n", 2],
    [
      ['-a', '-t', '1.1.1.1:80', '-w', '70000'],
      "You need to supply the 'real-server' option for the 'add-server' command\n",
      2,
    ],
    [['-L', '-x', '-1'], 'illegal u_threshold specified\n', 2],
    [['-L', '--syncid', '300'], 'illegal syncid specified\n', 2],
    [['-L', '-p', '0'], "invalid timeout value `0' specified\n", 2],
    [['-L', '-f', '5', '-M', '3'], "Illegal 'netmask' option with the 'list' command\n", 2],
    [['-L', '--tun-port', '0'], 'illegal tunnel port specified\n', 2],
  ];
  for (const [args, stderr, code] of errors) {
    it(`ipvsadm ${args.join(' ')} -> exit ${code}`, async function () {
      opened = 0;
      const r = await run(...args);
      expect(r).to.deep.equal({ stdout: '', stderr, code });
      expect(opened, 'option errors must not touch the table').to.equal(0);
    });
  }

  it('-h prints the ipvsadm usage text to stdout with the program name, exit 0', async function () {
    const want = readFileSync(join(fixtures, 'ipvsadm-h.txt'), 'utf8');
    expect(await run('-h')).to.deep.equal({ stdout: want, stderr: '', code: 0 });
    const other = await runLvsadm('lvsadm', ['--help'], deps);
    expect(other.stdout).to.equal(want.replaceAll('  ipvsadm ', '  lvsadm '));
  });

  it('-v prints the ipvsadm version line', async function () {
    expect(await run('-v')).to.deep.equal({
      stdout: 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n',
      stderr: '',
      code: 0,
    });
  });

  it('--timeout and --daemon render the kernel settings', async function () {
    expect((await run('-L', '--timeout')).stdout).to.equal(
      'Timeout (tcp tcpfin udp): 900 120 300\n',
    );
    expect((await run('-L', '--daemon')).stdout).to.equal(
      'master sync daemon (mcast=lo, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n',
    );
  });

  it('-L -t for a missing service prints "No such service" and exits 1', async function () {
    expect(await run('-L', '-t', '1.2.3.4:5')).to.deep.equal({
      stdout: '',
      stderr: 'No such service\n',
      code: 1,
    });
    // A bracketed IPv4 loses its port in ipvsadm's parser, so this looks up port 0.
    expect(await run('-L', '-t', '[10.0.0.1]:80')).to.deep.equal({
      stdout: '',
      stderr: 'No such service\n',
      code: 1,
    });
  });

  it('-L -t / -f / -u find services the way the kernel looks them up', async function () {
    expect((await run('-Ln', '-t', '10.0.0.1:80')).stdout).to.contain(
      'TCP  10.0.0.1:80 rr persistent 60\n',
    );
    expect((await run('-Ln', '-f', '5')).stdout).to.contain('FWM  5 rr\n');
    expect((await run('-Ln', '-f', '5', '-6')).stderr).to.equal('No such service\n');
    expect((await run('-Lnu', '[fd00:0::1]:53')).stdout).to.contain(
      'UDP  [fd00::1]:53 sh (sh-port)\n',
    );
    expect((await run('-L', '-n', '--tcp-service=10.96.0.1:443')).stdout).to.contain(
      'TCP  10.96.0.1:443 rr\n',
    );
  });

  it('refuses every write command with one line and a non-zero exit, without opening the table', async function () {
    for (const args of [
      ['-C'],
      ['-A', '-t', '1.2.3.4:80'],
      ['-D', '-t', '1.2.3.4:80'],
      ['-a', '-t', '1.2.3.4:80', '-r', '1.2.3.5'],
      ['-Z'],
      ['--set', '1', '2', '3'],
      ['--start-daemon', 'master'],
      ['--stop-daemon', 'backup'],
      ['-R'],
      ['-e', '-t', '1.2.3.4:80', '-r', '1.2.3.5'],
      ['-d', '-t', '1.2.3.4:80', '-r', '1.2.3.5'],
      ['-E', '-t', '1.2.3.4:80'],
    ]) {
      opened = 0;
      const r = await runLvsadm('lvsadm', args, deps);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(
        /^lvsadm: kube-ipvs owns the IPVS table; '[a-z-]+' refused, nothing was changed\n$/,
      );
      expect(opened).to.equal(0);
    }
  });

  it('reports a missing IPVS like ipvsadm does (the host kernel has no IPVS family)', async function () {
    // The real kernel source: on this host resolving "IPVS" answers ENOENT.
    const r = await runLvsadm('lvsadm', ['-Ln'], {
      ...deps,
      openSource: () => kernelSource(),
      modprobe: () =>
        Promise.resolve({ ok: false, stderr: 'modprobe: FATAL: Module ip_vs not found\n' }),
    });
    expect(r).to.deep.equal({
      stdout: '',
      stderr:
        'modprobe: FATAL: Module ip_vs not found\n' +
        "Can't initialize ipvs: Protocol not available\n" +
        'Are you sure that IP Virtual Server is built in the kernel or as module?\n',
      code: 2,
    });
  });

  it('an addon that does not load is named, not blamed on the kernel', async function () {
    const missing = join(here, 'no-such-build', 'netlink.node');
    let probed = false;
    const r = await runLvsadm('lvsadm', ['-Ln'], {
      ...deps,
      openSource: () => kernelSource({ addonPath: missing }),
      modprobe: () => {
        probed = true;
        return Promise.resolve({ ok: true, stderr: '' });
      },
    });
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(
      new RegExp(
        `^lvsadm: cannot load the netlink addon \\(${missing.replace(/[.]/g, '\\.')}\\): ` +
          `[^\n]+; run npm run build:native\n$`,
      ),
    );
    expect(r.stderr).to.not.contain("Can't initialize ipvs");
    expect(r.stderr).to.not.match(/\n\s+at /);
    expect(probed).to.equal(false);
  });

  for (const [code, errno] of [
    ['EPERM', 1],
    ['EACCES', 13],
  ] as const) {
    it(`${code} opening the socket says so in one line (run as root)`, async function () {
      const err = Object.assign(new Error(`socket: denied (${code})`), {
        errno,
        code,
        syscall: 'socket',
      });
      const r = await runLvsadm('lvsadm', ['-Ln'], {
        ...deps,
        openSource: () => Promise.reject(err),
      });
      const text = code === 'EPERM' ? 'Operation not permitted' : 'Permission denied';
      expect(r).to.deep.equal({
        stdout: '',
        stderr: `lvsadm: opening a netlink socket: ${text} (run as root)\n`,
        code: 2,
      });
    });
  }

  it('EPERM from the kernel on the first IPVS read is a permission error too', async function () {
    const r = await runLvsadm('ipvsadm', ['-Ln'], {
      ...deps,
      openSource: () =>
        Promise.reject(new NetlinkError(1, 7, undefined, undefined, 'IPVS_CMD_GET_INFO')),
    });
    expect(r).to.deep.equal({
      stdout: '',
      stderr: 'ipvsadm: reading IPVS: Operation not permitted (run as root)\n',
      code: 2,
    });
  });

  it('a failure after modprobe loaded ip_vs is reported as it is', async function () {
    let n = 0;
    const r = await runLvsadm('lvsadm', ['-Ln'], {
      ...deps,
      openSource: () =>
        n++ === 0
          ? Promise.reject(new GenlFamilyNotFoundError('IPVS', new NetlinkError(2, 1)))
          : Promise.reject(Object.assign(new Error('bind'), { errno: 1, syscall: 'bind' })),
      modprobe: () => Promise.resolve({ ok: true, stderr: '' }),
    });
    expect(r).to.deep.equal({
      stdout: '',
      stderr: 'lvsadm: opening a netlink socket: Operation not permitted (run as root)\n',
      code: 2,
    });
  });

  it('-c prints the connection header from /proc/net/ip_vs_conn', async function () {
    expect((await run('-Lnc')).stdout).to.equal(
      'IPVS connection entries\npro expire state       source             virtual            destination\n',
    );
  });
});

// lvsadm --k8s: each virtual service line gains its owning Service port; everything else
// is ipvsadm's output unchanged, and option errors are ipvsadm-style.
import { expect } from 'chai';
import { runLvsadm, type LvsadmDeps } from '../../../lib/cli/lvsadm.js';
import { NO_NAMES } from '../../../lib/cli/format/names.js';
import { NO_ARG_NAMES } from '../../../lib/cli/lvsadm/parse.js';
import { staticSource } from '../../../lib/cli/lvsadm/source.js';
import { formatOwnerMap, parseOwnerMap } from '../../../lib/owners/format.js';
import type { OwnersRead } from '../../../lib/owners/read.js';
import { captured } from './format/list.test.js';

const map = parseOwnerMap(
  formatOwnerMap('node-a', [
    [
      'TCP/10.0.0.1:80',
      { namespace: 'default', name: 'web', portName: 'http', port: 80, kind: 'ClusterIP' },
    ],
    [
      'UDP/[fd00::1]:53',
      { namespace: 'kube-system', name: 'dns', portName: '', port: 53, kind: 'ClusterIP' },
    ],
    [
      'TCP/172.16.1.7:31481',
      { namespace: 'shop', name: 'cart', portName: 'api', port: 8080, kind: 'NodePort' },
    ],
  ]),
);

function deps(owners: OwnersRead): LvsadmDeps & { reads: number } {
  const d = {
    reads: 0,
    openSource: () => Promise.resolve(staticSource(captured)),
    argNames: NO_ARG_NAMES,
    names: () => Promise.resolve(NO_NAMES),
    modprobe: () => Promise.resolve({ ok: false, stderr: '' }),
    readOwners: () => {
      d.reads++;
      return Promise.resolve(owners);
    },
  };
  return d;
}

const withMap = deps({ ok: true, map });
const run = (d: LvsadmDeps, ...args: string[]) => runLvsadm('lvsadm', args, d);

describe('lvsadm --k8s (owning Service port per virtual service, DESIGN §7)', function () {
  it('-Ln --k8s appends namespace/name:port (name, else number) or <none>; the rest is -Ln', async function () {
    const r = await run(withMap, '-Ln', '--k8s');
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  172.16.1.7:31481 rr  shop/cart:api\n' +
        'TCP  10.0.0.1:80 rr persistent 60  default/web:http\n' +
        '  -> 127.0.0.1:80                 Masq    3      0          0         \n' +
        'TCP  10.96.0.1:443 rr  <none>\n' +
        'SCTP 10.0.0.2:9000 lc  <none>\n' +
        'UDP  [fd00::1]:53 sh (sh-port)  kube-system/dns:53\n' +
        '  -> [fd00:1::5]:5353             Masq    1      0          0         \n' +
        'FWM  5 rr  <none>\n',
    );
    // Without --k8s: byte for byte the plain listing, and the map is not read.
    const plain = deps({ ok: true, map });
    const p = await run(plain, '-Ln');
    expect(p.stdout).to.equal(r.stdout.replace(/ {2}(\S+\/\S+|<none>)$/gm, ''));
    expect(plain.reads).to.equal(0);
  });

  it('combines with --stats, --rate, --exact, --thresholds and a -t/-u/-f service filter', async function () {
    const stats = await run(withMap, '-L', '-n', '--stats', '--exact', '--k8s');
    expect(stats.stdout.split('\n')[3]).to.equal(
      'TCP  172.16.1.7:31481                    0        0        0        0        0  shop/cart:api',
    );
    expect(stats.stdout.split('\n')[5]).to.equal(
      '  -> 127.0.0.1:80                        0        0        0        0        0',
    );
    const rate = await run(withMap, '-Ln', '--rate', '--k8s');
    expect(rate.stdout).to.contain(
      'TCP  10.0.0.1:80                         0        0        0        0        0  default/web:http\n',
    );
    const thr = await run(withMap, '-Ln', '--thresholds', '--k8s');
    expect(thr.stdout).to.contain('UDP  [fd00::1]:53 sh (sh-port)  kube-system/dns:53\n');
    const one = await run(withMap, '--k8s', '-Ln', '-t', '10.0.0.1:80');
    // --k8s before the command is what ipvsadm says of any option there.
    expect(one.code).to.equal(255);
    const t = await run(withMap, '-Ln', '-t', '10.0.0.1:80', '--k8s');
    expect(t.stdout).to.equal(
      'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  10.0.0.1:80 rr persistent 60  default/web:http\n' +
        '  -> 127.0.0.1:80                 Masq    3      0          0         \n',
    );
    const u = await run(withMap, '-Lnu', '[fd00::1]:53', '--k8s');
    expect(u.stdout).to.contain('UDP  [fd00::1]:53 sh (sh-port)  kube-system/dns:53\n');
    const f = await run(withMap, '-Ln', '-f', '5', '--k8s');
    expect(f.stdout).to.contain('FWM  5 rr  <none>\n');
  });

  it('without the owner map: the plain listing, one stderr line saying why, exit 0', async function () {
    const reason =
      '/run/kube-ipvs/owners.json does not exist (kube-ipvs run writes it on this node after a sync)';
    const r = await run(deps({ ok: false, reason }), '-Ln', '--k8s');
    const plain = await run(withMap, '-Ln');
    expect(r).to.deep.equal({
      stdout: plain.stdout,
      stderr: `lvsadm: --k8s: no owners shown: ${reason}\n`,
      code: 0,
    });
  });

  it('refuses combinations without virtual service lines, in ipvsadm style', async function () {
    const rows: Array<[string[], string, number]> = [
      [['-L', '-c', '--k8s'], 'options conflicts in the list command\n', 2],
      [['-L', '--timeout', '--k8s'], 'options conflicts in the list command\n', 2],
      [['-L', '--daemon', '--k8s'], 'options conflicts in the list command\n', 2],
      [['-S', '--k8s'], "Illegal 'k8s' option with the 'save' command\n", 2],
      [
        ['-A', '-t', '1.2.3.4:80', '--k8s'],
        "Illegal 'k8s' option with the 'add-service' command\n",
        2,
      ],
      [['-Ln', '--k8s', '--k8s'], "multiple 'k8s' options specified\n", 2],
    ];
    for (const [args, stderr, code] of rows) {
      const r = await run(withMap, ...args);
      expect({ stderr: r.stderr, code: r.code }, args.join(' ')).to.deep.equal({ stderr, code });
      expect(r.stdout).to.equal('');
    }
  });
});

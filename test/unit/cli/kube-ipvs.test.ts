// The real kube-ipvs command (bin/kube-ipvs.js → dist), run as a child process.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../../bin/kube-ipvs.js', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const WEB = `apiVersion: v1
kind: Service
metadata: {name: svc-web, namespace: default}
spec:
  selector: {app: source-ip-app}
  clusterIP: 10.0.170.92
  ports: [{port: 80, targetPort: 8080, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc-web-abc, labels: {kubernetes.io/service-name: svc-web}}
addressType: IPv4
ports: [{port: 8080, protocol: TCP}]
endpoints:
- {addresses: [10.244.2.5], conditions: {ready: true}, nodeName: node-b}
- {addresses: [10.244.1.5], conditions: {ready: true}, nodeName: node-a}
- {addresses: [10.244.3.9], conditions: {ready: false}, nodeName: node-c}
- {addresses: [127.0.0.1], conditions: {ready: true}, nodeName: node-a}
`;

const DNS6 = `apiVersion: v1
kind: Service
metadata:
  name: dns6
  namespace: kube-system
  annotations: {kube-ipvs.io/scheduler: sh, kube-ipvs.io/scheduler-flags: sh-port}
spec:
  ipFamilies: [IPv6]
  clusterIP: fd00:10:96::a
  clusterIPs: [fd00:10:96::a]
  ports:
  - {name: dns, port: 53, targetPort: 5353, protocol: UDP}
  - {name: dns-tcp, port: 53, targetPort: 5353, protocol: TCP}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dns6-1, namespace: kube-system, labels: {kubernetes.io/service-name: dns6}}
addressType: IPv6
ports: [{name: dns, port: 5353, protocol: UDP}, {name: dns-tcp, port: 5353, protocol: TCP}]
endpoints:
- {addresses: ["fd00:10:244:1::5"], conditions: {ready: true}}
`;

const SCTP = `apiVersion: v1
kind: Service
metadata: {name: sig}
spec:
  type: NodePort
  clusterIP: 10.0.0.2
  externalTrafficPolicy: Local
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
  ports: [{port: 9000, targetPort: 9000, protocol: SCTP, nodePort: 30900}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: sig}
subsets:
- addresses: [{ip: 192.0.2.42, nodeName: node-b}]
  notReadyAddresses: [{ip: 192.0.2.43, nodeName: node-a}]
  ports: [{port: 9000, protocol: SCTP}]
`;

describe('kube-ipvs command (real process)', function () {
  this.timeout(30000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-cli-'));
    writeFileSync(join(dir, 'web.yaml'), WEB);
    writeFileSync(join(dir, 'dns6.yaml'), DNS6);
    writeFileSync(join(dir, 'sctp.yaml'), SCTP);
    writeFileSync(
      join(dir, 'config-lc.yaml'),
      'apiVersion: kube-ipvs.io/v1alpha1\nkind: KubeIpvsConfiguration\nscheduler: lc\n',
    );
    writeFileSync(
      join(dir, 'config-bad.yaml'),
      'apiVersion: kube-ipvs.io/v1alpha1\nkind: KubeIpvsConfiguration\nscheduler: bogus\n',
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("render prints the node's desired state in ipvsadm -S -n syntax (R1.1, R5.1, R6.1, R9.1, R16.1)", async () => {
    const manifests = join(dir, 'm');
    rmSync(manifests, { recursive: true, force: true });
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(manifests);
    for (const f of ['web.yaml', 'dns6.yaml', 'sctp.yaml'])
      copyFileSync(join(dir, f), join(manifests, f));
    const r = await run([
      'render',
      '--manifests',
      manifests,
      '--node-name',
      'node-a',
      '--node-addresses',
      '192.168.10.11',
    ]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal(
      [
        // Ready endpoints only, loopback refused, sorted by address.
        '-A -t 10.0.170.92:80 -s rr',
        '-a -t 10.0.170.92:80 -r 10.244.1.5:8080 -m -w 1',
        '-a -t 10.0.170.92:80 -r 10.244.2.5:8080 -m -w 1',
        // Mirrored Endpoints; ClientIP affinity → persistence; internal traffic: all ready endpoints.
        '-A --sctp-service 10.0.0.2:9000 -s rr -p 60',
        '-a --sctp-service 10.0.0.2:9000 -r 192.0.2.42:9000 -m -w 1',
        // externalTrafficPolicy Local and no ready endpoint on node-a: no real servers (dropped).
        '-A --sctp-service 192.168.10.11:30900 -s rr -p 60',
        // IPv6 in brackets, per-service scheduler annotation with its flag, TCP before UDP.
        '-A -t [fd00:10:96::a]:53 -s sh -b sh-port',
        '-a -t [fd00:10:96::a]:53 -r [fd00:10:244:1::5]:5353 -m -w 1',
        '-A -u [fd00:10:96::a]:53 -s sh -b sh-port',
        '-a -u [fd00:10:96::a]:53 -r [fd00:10:244:1::5]:5353 -m -w 1',
        '',
      ].join('\n'),
    );
    expect(r.stderr).to.equal(
      [
        // What render assumed, then what it dropped.
        'warning: rendering for node "node-a" (from --node-name), node addresses 192.168.10.11',
        'warning: Service default/sig spec.externalTrafficPolicy: Local, and no usable endpoint of port "" on node "node-a": traffic to SCTP/192.168.10.11:30900 is dropped',
        'skipped: EndpointSlice default/svc-web-abc endpoints[3].addresses[0]: 127.0.0.1 is a loopback address, not allowed as an endpoint',
        '',
      ].join('\n'),
    );
  });

  it('render for another node and with a config file: Local policy and scheduler follow', async () => {
    const manifests = join(dir, 'm2');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(manifests, { recursive: true });
    copyFileSync(join(dir, 'sctp.yaml'), join(manifests, 'sctp.yaml'));
    const r = await run([
      'render',
      '--manifests',
      manifests,
      '--node-name',
      'node-b',
      '--node-addresses',
      '192.168.10.12',
      '--config',
      join(dir, 'config-lc.yaml'),
    ]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal(
      [
        '-A --sctp-service 10.0.0.2:9000 -s lc -p 60',
        '-a --sctp-service 10.0.0.2:9000 -r 192.0.2.42:9000 -m -w 1',
        '-A --sctp-service 192.168.10.12:30900 -s lc -p 60',
        '-a --sctp-service 192.168.10.12:30900 -r 192.0.2.42:9000 -m -w 1',
        '',
      ].join('\n'),
    );
  });

  it('render reports a broken manifest with file and line, renders the rest, exits 1', async () => {
    const manifests = join(dir, 'm3');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(manifests, { recursive: true });
    copyFileSync(join(dir, 'web.yaml'), join(manifests, 'web.yaml'));
    writeFileSync(
      join(manifests, 'broken.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: [x\n',
    );
    const r = await run(['render', '--manifests', manifests, '--node-name', 'node-a']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(
      new RegExp(
        `^${join(manifests, 'broken.yaml').replace(/[.]/g, '\\.')}:\\d+:\\d+: error: `,
        'm',
      ),
    );
    expect(r.stdout).to.contain('-A -t 10.0.170.92:80 -s rr\n');
  });

  it("render: a bad document drops only itself (file:line), its file's other objects are rendered", async () => {
    const manifests = join(dir, 'm5');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(manifests, { recursive: true });
    writeFileSync(
      join(manifests, 'mixed.yaml'),
      `${WEB}---\nkind: Service\nmetadata: {name: no-api}\nspec: {clusterIP: 10.0.0.9, ports: [{port: 80}]}\n`,
    );
    const r = await run(['render', '--manifests', manifests, '--node-name', 'node-a']);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.contain('-A -t 10.0.170.92:80 -s rr\n');
    expect(r.stdout).to.not.contain('10.0.0.9');
    expect(r.stderr).to.contain(
      `${join(manifests, 'mixed.yaml')}:20:1: error: Service must have apiVersion v1; apiVersion is missing\n`,
    );
  });

  it('render refuses a bad config file with its errors, exit 1', async () => {
    const r = await run([
      'render',
      '--manifests',
      dir,
      '--node-name',
      'x',
      '--config',
      join(dir, 'config-bad.yaml'),
    ]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('config-bad.yaml:3:');
    expect(r.stdout).to.equal('');
  });

  it('unknown flags, missing flags and bad values are usage errors: exit 2 with a clear message', async () => {
    const unknown = await run(['render', '--manifests', dir, '--bogus']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(
      /^kube-ipvs render: unknown option '--bogus'\nusage: kube-ipvs render /,
    );
    const missing = await run(['render']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('--manifests DIR is required');
    const badIp = await run(['render', '--manifests', dir, '--node-addresses', '10.0.0.1,nope']);
    expect(badIp.code).to.equal(2);
    expect(badIp.stderr).to.contain('"nope" is not an IP address');
    const positional = await run(['check', 'extra']);
    expect(positional.code).to.equal(2);
    expect(positional.stderr).to.contain("unexpected argument 'extra'");
    const noCmd = await run([]);
    expect(noCmd.code).to.equal(2);
    expect(noCmd.stderr).to.contain('usage: kube-ipvs COMMAND');
    const badCmd = await run(['frobnicate']);
    expect(badCmd.code).to.equal(2);
    expect(badCmd.stderr).to.contain("unknown command 'frobnicate'");
  });

  it("a missing option value and a repeated option get the command's own message, exit 2", async () => {
    const cases: Array<[string[], string]> = [
      [['render', '--manifests'], 'kube-ipvs render: --manifests needs a value\n'],
      [
        ['render', '--manifests', '--node-name', 'x'],
        'kube-ipvs render: --manifests needs a value\n',
      ],
      [['check', '--config'], 'kube-ipvs check: --config needs a value\n'],
      [
        ['check', '--config', 'a.yaml', '--config', 'b.yaml'],
        'kube-ipvs check: --config given twice\n',
      ],
      [
        ['render', '--manifests=a', '--node-name', 'n', '--manifests', 'b'],
        'kube-ipvs render: --manifests given twice\n',
      ],
      [['version', '--short'], "kube-ipvs version: unknown option '--short'\n"],
    ];
    for (const [args, first] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr.split('\n')[0] + '\n', args.join(' ')).to.equal(first);
      expect(r.stderr, args.join(' ')).to.match(/\nusage: kube-ipvs /);
    }
  });

  it("help COMMAND prints that command's help; -v and --version print the version", async () => {
    const viaHelp = await run(['help', 'render']);
    const viaFlag = await run(['render', '--help']);
    expect(viaHelp.code).to.equal(0);
    expect(viaHelp.stdout).to.contain('--node-addresses');
    expect(viaHelp.stdout).to.equal(viaFlag.stdout);
    const unknown = await run(['help', 'bogus']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain("unknown command 'bogus'");
    const version = await run(['version']);
    for (const flag of ['-v', '--version']) {
      const r = await run([flag]);
      expect(r.code, flag).to.equal(0);
      expect(r.stdout, flag).to.equal(version.stdout);
    }
  });

  it('render of a missing directory fails with exit 1', async () => {
    const r = await run(['render', '--manifests', join(dir, 'nope'), '--node-name', 'x']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('nope');
  });

  it('check: exit 0 and one line for a valid config, exit 1 and the errors otherwise', async () => {
    const ok = await run(['check', '--config', join(dir, 'config-lc.yaml')]);
    expect(ok.code).to.equal(0);
    expect(ok.stdout.split('\n')).to.have.length(2);
    expect(ok.stdout).to.contain('scheduler lc');
    const bad = await run(['check', '--config', join(dir, 'config-bad.yaml')]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('bogus');
    expect(bad.stdout).to.equal('');
    const extra = await run(['check', '--config', join(dir, 'config-lc.yaml'), 'x']);
    expect(extra.code).to.equal(2);
  });

  it('version and help', async () => {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(
      readFileSync(fileURLToPath(new URL('../../../../package.json', import.meta.url)), 'utf8'),
    ) as { version: string };
    const v = await run(['version']);
    expect(v.code).to.equal(0);
    expect(v.stdout).to.equal(`kube-ipvs ${pkg.version} (node ${process.version})\n`);
    const h = await run(['--help']);
    expect(h.code).to.equal(0);
    expect(h.stdout).to.match(/render[\s\S]*check[\s\S]*version/);
    const rh = await run(['render', '--help']);
    expect(rh.code).to.equal(0);
    expect(rh.stdout).to.contain('--node-addresses');
  });

  it('render uses NODE_NAME when --node-name is absent', async () => {
    const manifests = join(dir, 'm4');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(manifests, { recursive: true });
    copyFileSync(join(dir, 'sctp.yaml'), join(manifests, 'sctp.yaml'));
    const r = await run(['render', '--manifests', manifests, '--node-addresses', '192.168.10.12'], {
      NODE_NAME: 'node-b',
    });
    expect(r.stdout).to.contain(
      '-a --sctp-service 192.168.10.12:30900 -r 192.0.2.42:9000 -m -w 1\n',
    );
  });

  it('run and plan name a bad manifests directory or kubeconfig in one line, before touching the kernel', async () => {
    const cases: Array<[string[], string]> = [
      [
        ['run', '--manifests', join(dir, 'missing')],
        `kube-ipvs run: ${join(dir, 'missing')}: no such file or directory\n`,
      ],
      [
        ['plan', '--manifests', join(dir, 'web.yaml')],
        `kube-ipvs plan: ${join(dir, 'web.yaml')}: not a directory\n`,
      ],
      [
        ['run', '--once', '--kubeconfig', join(dir, 'none')],
        `kube-ipvs run: loading the kubeconfig ${join(dir, 'none')}: no such file or directory\n`,
      ],
      [
        ['run', '--once', '--kubeconfig', join(dir, 'kubeconfig-empty')],
        `kube-ipvs run: loading the kubeconfig ${join(dir, 'kubeconfig-empty')}: not a kubeconfig (no clusters, contexts, users)\n`,
      ],
      [
        ['plan', '--kubeconfig', join(dir, 'kubeconfig-no-cluster')],
        `kube-ipvs plan: loading the kubeconfig ${join(dir, 'kubeconfig-no-cluster')}: no cluster to connect to: the current context (none) names none\n`,
      ],
      [
        ['plan', '--kubeconfig', join(dir, 'config-bad.yaml'), '--config', join(dir, 'nope.yaml')],
        // The config loader's own format, as check and render print it.
        `${join(dir, 'nope.yaml')}: (document): cannot read the file: ENOENT: no such file or directory, open '${join(dir, 'nope.yaml')}'\n`,
      ],
    ];
    writeFileSync(join(dir, 'kubeconfig-empty'), '');
    writeFileSync(
      join(dir, 'kubeconfig-no-cluster'),
      'apiVersion: v1\nkind: Config\nclusters: []\n',
    );
    for (const [args, stderr] of cases) {
      const r = await run(args);
      expect(r.stderr, args.join(' ')).to.equal(stderr);
      expect(r.code, args.join(' ')).to.equal(1);
    }
  });
});

import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, loadConfig, parseConfig } from '../../../lib/config/index.js';

const HEAD = 'apiVersion: kube-ipvs.io/v1alpha1\nkind: KubeIpvsConfiguration\n';

function errors(text: string): string[] {
  const r = parseConfig(text, 'cfg.yaml');
  expect(r.ok, 'expected the config to be rejected').to.equal(false);
  return r.ok ? [] : r.errors.map((e) => e.text);
}

describe('config/load', () => {
  it('R17.2: every field has its documented default', () => {
    const r = parseConfig(HEAD, 'cfg.yaml');
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.config).to.deep.equal({
      apiVersion: 'kube-ipvs.io/v1alpha1',
      kind: 'KubeIpvsConfiguration',
      backend: 'auto',
      scheduler: 'rr',
      schedulerFlags: [],
      services: [],
      syncPeriod: 30_000,
      minSyncPeriod: 1_000,
      tcpTimeout: 0,
      tcpFinTimeout: 0,
      udpTimeout: 0,
      strictARP: false,
      excludeCIDRs: [],
      nodePortAddresses: [],
      masqueradeAll: false,
      clusterCIDR: [],
      gracefulTermination: { timeout: 900_000 },
      metricsBindAddress: '127.0.0.1:10249',
      healthzBindAddress: '0.0.0.0:10256',
      interface: 'kube-ipvs0',
    });
    expect(defaultConfig()).to.deep.equal(r.config);
  });

  it('R17.2/R2.2/R13.1: a full file is read with durations in milliseconds', () => {
    const r = parseConfig(
      HEAD +
        [
          'backend: ipvs',
          'scheduler: sh',
          'schedulerFlags: [sh-port, sh-fallback]',
          'services:',
          '  - match: { namespace: kube-system, name: kube-dns }',
          '    scheduler: rr',
          '  - match: { labels: { tier: cache } }',
          '    scheduler: mh',
          '    flags: [mh-port]',
          'syncPeriod: 1m',
          'minSyncPeriod: 0s',
          'tcpTimeout: 15m',
          'tcpFinTimeout: 2m',
          'udpTimeout: 5m',
          'strictARP: true',
          'excludeCIDRs: [10.96.100.0/24]',
          'nodePortAddresses: [192.168.10.0/24, "2001:db8::/64"]',
          'masqueradeAll: true',
          'clusterCIDR: 10.244.0.0/16,fd00:10:244::/56',
          'gracefulTermination: { timeout: 90s }',
          'metricsBindAddress: "[::1]:9999"',
          'healthzBindAddress: 127.0.0.1:10256',
          'interface: ipvs0',
        ].join('\n'),
      'cfg.yaml',
    );
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.config.services).to.deep.equal([
      { match: { namespace: 'kube-system', name: 'kube-dns' }, scheduler: 'rr', flags: [] },
      { match: { labels: { tier: 'cache' } }, scheduler: 'mh', flags: ['mh-port'] },
    ]);
    expect(r.config.syncPeriod).to.equal(60_000);
    expect(r.config.minSyncPeriod).to.equal(0);
    expect([r.config.tcpTimeout, r.config.tcpFinTimeout, r.config.udpTimeout]).to.deep.equal([
      900_000, 120_000, 300_000,
    ]);
    expect(r.config.clusterCIDR).to.deep.equal(['10.244.0.0/16', 'fd00:10:244::/56']);
    expect(r.config.gracefulTermination.timeout).to.equal(90_000);
    expect(r.config.nodePortAddresses).to.deep.equal(['192.168.10.0/24', '2001:db8::/64']);
  });

  it('rejects an unknown key with file, line:column, path and the allowed fields', () => {
    expect(errors(HEAD + 'schedular: rr\n')).to.deep.equal([
      'cfg.yaml:3:1: schedular: unknown field; allowed fields here: apiVersion, kind, backend, scheduler, schedulerFlags, services, syncPeriod, minSyncPeriod, tcpTimeout, tcpFinTimeout, udpTimeout, strictARP, excludeCIDRs, nodePortAddresses, masqueradeAll, clusterCIDR, gracefulTermination, metricsBindAddress, healthzBindAddress, interface',
    ]);
  });

  it('rejects unknown keys in nested objects too', () => {
    expect(
      errors(
        HEAD + 'services:\n  - match:\n      namespace: a\n      nmae: b\n    scheduler: rr\n',
      ),
    ).to.deep.equal([
      'cfg.yaml:6:7: services[0].match.nmae: unknown field; allowed fields here: namespace, name, labels',
    ]);
    expect(errors(HEAD + 'gracefulTermination:\n  timeout: 1m\n  delay: 2s\n')).to.deep.equal([
      'cfg.yaml:5:3: gracefulTermination.delay: unknown field; allowed fields here: timeout',
    ]);
  });

  it('bad values name the position, the path, the value and what is allowed', () => {
    const text =
      HEAD +
      [
        'backend: nftables', // 3
        'scheduler: fastest', // 4
        'syncPeriod: 30', // 5
        'minSyncPeriod: 1d', // 6
        'strictARP: "yes"', // 7
        'excludeCIDRs: [10.0.0.0/33]', // 8
        'metricsBindAddress: localhost:10249', // 9
        'interface: "kube ipvs"', // 10
      ].join('\n');
    expect(errors(text)).to.deep.equal([
      'cfg.yaml:3:10: backend: expected one of auto, ipvs, iptables; got "nftables"',
      'cfg.yaml:4:12: scheduler: expected an IPVS scheduler: one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh; got "fastest"',
      'cfg.yaml:5:13: syncPeriod: expected a Go duration string such as "30s", "1m30s" or "500ms" (units ns, us, ms, s, m, h); got 30',
      'cfg.yaml:6:16: minSyncPeriod: expected a Go duration string such as "30s", "1m30s" or "500ms" (units ns, us, ms, s, m, h); got "1d"',
      'cfg.yaml:7:12: strictARP: expected true or false; got "yes"',
      'cfg.yaml:8:16: excludeCIDRs[0]: expected a CIDR such as "10.0.0.0/8" or "fd00::/64"; got "10.0.0.0/33"',
      'cfg.yaml:9:21: metricsBindAddress: expected IP:port, e.g. "127.0.0.1:10249" or "[::1]:10249"; got "localhost:10249"',
      'cfg.yaml:10:12: interface: expected a Linux interface name: 1-15 characters, no spaces, "/" or ":"; got "kube ipvs"',
    ]);
  });

  it('sync periods: syncPeriod above 0, minSyncPeriod not above it, both settable as a timer', () => {
    expect(errors(`${HEAD}syncPeriod: 0s\n`)).to.deep.equal([
      'cfg.yaml:3:13: syncPeriod: expected more than 0s (a full resync needs a period); got "0s"',
    ]);
    expect(errors(`${HEAD}syncPeriod: 30s\nminSyncPeriod: 1m\n`)).to.deep.equal([
      'cfg.yaml:4:16: minSyncPeriod: expected at most syncPeriod (30s); got "1m"',
    ]);
    expect(errors(`${HEAD}syncPeriod: 600h\n`)).to.deep.equal([
      'cfg.yaml:3:13: syncPeriod: expected at most 596h31m23.647s (the longest timer Node.js can set); got "600h"',
    ]);
    expect(errors(`${HEAD}syncPeriod: 500ms\n`)).to.deep.equal([
      'cfg.yaml:1:1: minSyncPeriod: expected at most syncPeriod (500ms); absent, so its default "1s" applies',
    ]);
    const ok = parseConfig(`${HEAD}syncPeriod: 596h\nminSyncPeriod: 0s\n`, 'cfg.yaml');
    expect(ok.ok).to.equal(true);
  });

  it("durations beyond Go's limit (max int64 nanoseconds) are refused for every field", () => {
    expect(
      errors(`${HEAD}udpTimeout: 2562048h\ngracefulTermination: {timeout: 9999999999h}\n`),
    ).to.deep.equal([
      'cfg.yaml:3:13: udpTimeout: expected at most 2562047h47m16.854775807s (the longest Go duration); got "2562048h"',
      'cfg.yaml:4:32: gracefulTermination.timeout: expected at most 2562047h47m16.854775807s (the longest Go duration); got "9999999999h"',
    ]);
    const ok = parseConfig(`${HEAD}udpTimeout: 2562047h\n`, 'cfg.yaml');
    expect(ok.ok).to.equal(true);
  });

  it('YAML merge keys (<<) work', () => {
    const merged = parseConfig(
      `${HEAD}services:\n- &web {match: {name: web}, scheduler: sh, flags: [sh-port]}\n- <<: *web\n  match: {name: api}\n`,
      'cfg.yaml',
    );
    expect(merged.ok ? merged.config.services : merged.errors).to.deep.equal([
      { match: { name: 'web' }, scheduler: 'sh', flags: ['sh-port'] },
      { match: { name: 'api' }, scheduler: 'sh', flags: ['sh-port'] },
    ]);
  });

  it('an alias bomb or an unresolved alias is an error with its position, not a crash', () => {
    const bomb =
      `${HEAD}services:\n` +
      '- &a {match: {labels: {a: b}}, scheduler: rr}\n' +
      `- &b [${Array(9).fill('*a').join(', ')}]\n` +
      `- &c [${Array(9).fill('*b').join(', ')}]\n` +
      `- &d [${Array(9).fill('*c').join(', ')}]\n` +
      `- [${Array(9).fill('*d').join(', ')}]\n`;
    expect(errors(bomb)).to.deep.equal([
      'cfg.yaml:1:1: (document): YAML: Excessive alias count indicates a resource exhaustion attack',
    ]);
    expect(errors(`${HEAD}scheduler: *nope\n`)).to.deep.equal([
      'cfg.yaml:1:1: (document): YAML: Unresolved alias (the anchor must be set before the alias): nope',
    ]);
  });

  it('G-6: scheduler flags must fit their scheduler, as ipvsadm -b requires', () => {
    expect(errors(HEAD + 'scheduler: rr\nschedulerFlags: [sh-port]\n')).to.deep.equal([
      'cfg.yaml:4:18: schedulerFlags[0]: "sh-port" applies only to the sh scheduler, not "rr"; with rr use flag-1, flag-2, flag-3; got "sh-port"',
    ]);
    expect(errors(HEAD + 'services:\n  - scheduler: sh\n    flags: [mh-port]\n')[0]).to.match(
      /^cfg\.yaml:5:13: services\[0\]\.flags\[0\]: "mh-port" applies only to the mh scheduler/,
    );
    expect(
      parseConfig(HEAD + 'scheduler: rr\nschedulerFlags: [flag-1, flag-3]\n', 'cfg.yaml').ok,
    ).to.equal(true);
  });

  it('a missing required field points at its parent mapping', () => {
    expect(errors('apiVersion: kube-ipvs.io/v1alpha1\n')).to.deep.equal([
      'cfg.yaml:1:1: kind: required field is missing (expected "KubeIpvsConfiguration")',
    ]);
    expect(errors(HEAD + 'services:\n  - match: {}\n')).to.deep.equal([
      'cfg.yaml:4:5: services[0].scheduler: required field is missing (expected an IPVS scheduler: one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh)',
    ]);
  });

  it('wrong apiVersion and kind are errors', () => {
    expect(errors('apiVersion: v1\nkind: ConfigMap\n')).to.deep.equal([
      'cfg.yaml:1:13: apiVersion: expected "kube-ipvs.io/v1alpha1"; got "v1"',
      'cfg.yaml:2:7: kind: expected "KubeIpvsConfiguration"; got "ConfigMap"',
    ]);
  });

  it('R13.1: nodePortAddresses takes CIDRs, or "primary" alone', () => {
    expect(errors(HEAD + 'nodePortAddresses: [primary, 10.0.0.0/8]\n')).to.deep.equal([
      'cfg.yaml:3:21: nodePortAddresses[0]: "primary" must be the only entry when used; got "primary"',
    ]);
    expect(errors(HEAD + 'nodePortAddresses: [eth0]\n')[0]).to.contain(
      'nodePortAddresses[0]: expected a CIDR such as "192.168.0.0/16", or "primary"; got "eth0"',
    );
  });

  it('clusterCIDR accepts at most one CIDR per family', () => {
    expect(errors(HEAD + 'clusterCIDR: 10.0.0.0/8,11.0.0.0/8\n')).to.deep.equal([
      'cfg.yaml:3:14: clusterCIDR: at most one CIDR per address family; "11.0.0.0/8" is a second IPv4 CIDR; got "10.0.0.0/8,11.0.0.0/8"',
    ]);
    expect(errors(HEAD + 'clusterCIDR: [10.0.0.0/8, nope]\n')).to.deep.equal([
      'cfg.yaml:3:27: clusterCIDR[1]: "nope" is not a CIDR; expected CIDRs such as "10.244.0.0/16" or "fd00:10:244::/56"; got "nope"',
    ]);
  });

  it('YAML syntax errors, duplicate keys, several documents and empty files are reported with positions', () => {
    expect(errors(HEAD + 'services: [\n')[0]).to.match(
      /^cfg\.yaml:\d+:\d+: \(document\): YAML syntax: /,
    );
    expect(errors(HEAD + 'scheduler: rr\nscheduler: lc\n')[0]).to.match(
      /^cfg\.yaml:4:1: \(document\): YAML syntax: Map keys must be unique/,
    );
    expect(errors(HEAD + '---\n' + HEAD)).to.deep.equal([
      'cfg.yaml:3:1: (document): expected one YAML document, found several',
    ]);
    expect(errors('')).to.deep.equal([
      'cfg.yaml:1:1: (document): empty document; expected a KubeIpvsConfiguration mapping',
    ]);
    expect(errors('- a\n')).to.deep.equal([
      'cfg.yaml:1:1: (document): expected object, received array; got a list',
    ]);
  });

  it('loadConfig names the file on disk, and never throws for a missing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-load-'));
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, HEAD + 'scheduler: nope\n');
      const bad = await loadConfig(file);
      expect(bad.ok).to.equal(false);
      if (!bad.ok)
        expect(bad.errors[0]?.text).to.match(
          new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:12: scheduler: `),
        );
      const missing = await loadConfig(join(dir, 'absent.yaml'));
      expect(missing.ok).to.equal(false);
      if (!missing.ok)
        expect(missing.errors[0]?.text).to.contain(
          'absent.yaml: (document): cannot read the file: ENOENT',
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig } from '../../../lib/config/index.js';

describe('config/check', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-check-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a valid file gives ok and a one-line summary', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(
      file,
      'apiVersion: kube-ipvs.io/v1alpha1\nkind: KubeIpvsConfiguration\nscheduler: sh\nschedulerFlags: [sh-port]\nsyncPeriod: 1m30s\n',
    );
    const r = await checkConfig(file);
    expect(r.ok).to.equal(true);
    expect(r.ok && r.summary).to.equal(
      `${file}: valid; backend auto, scheduler sh -b sh-port, 0 service rules, syncPeriod 1m30s, minSyncPeriod 1s, nodePortAddresses all, interface kube-ipvs0`,
    );
    expect(r.ok && r.config.scheduler).to.equal('sh');
    expect(r.ok && r.summary.includes('\n')).to.equal(false);
  });

  it('an invalid file gives every error, each with file:line:column', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: kube-ipvs.io/v1alpha1\nkind: KubeIpvsConfiguration\nbackend: nft\nextra: 1\n',
    );
    const r = await checkConfig(file);
    expect(r.ok).to.equal(false);
    if (r.ok) return;
    expect(r.errors).to.have.length(2);
    expect(r.errors[0]).to.match(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:10: backend: `),
    );
    expect(r.errors[1]).to.contain(':4:1: extra: unknown field');
  });
});

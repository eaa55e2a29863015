import { expect } from 'chai';
import {
  mkdtempSync,
  rmSync,
  writeFileSync,
  unlinkSync,
  renameSync,
  symlinkSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { ManifestSource } from '../../../lib/sources/manifests.js';
import type { ObjectSink } from '../../../lib/sources/sink.js';

/** A sink that records the state it was driven to, and how many calls it got. */
class RecordingSink implements ObjectSink {
  services = new Map<string, V1Service>();
  slices = new Map<string, V1EndpointSlice>();
  calls = 0;
  upsertService(s: V1Service): void {
    this.calls++;
    this.services.set(`${s.metadata?.namespace}/${s.metadata?.name}`, s);
  }
  removeService(ns: string, name: string): void {
    this.calls++;
    this.services.delete(`${ns}/${name}`);
  }
  upsertSlice(s: V1EndpointSlice): void {
    this.calls++;
    this.slices.set(`${s.metadata?.namespace}/${s.metadata?.name}`, s);
  }
  removeSlice(ns: string, name: string): void {
    this.calls++;
    this.slices.delete(`${ns}/${name}`);
  }
  sliceAddresses(owner: string): string[] {
    return [...this.slices.values()]
      .filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === owner)
      .flatMap((s) => s.endpoints.flatMap((e) => e.addresses))
      .sort();
  }
}

const svcYaml = (name: string, extra = '') =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec:\n  clusterIP: 10.0.0.1\n  ports: [{port: 80, targetPort: 9376}]\n${extra}`;
const epsYaml = (name: string, ips: string[]) =>
  `apiVersion: v1\nkind: Endpoints\nmetadata: {name: ${name}}\nsubsets:\n- addresses: [${ips.map((i) => `{ip: ${i}}`).join(', ')}]\n  ports: [{port: 9376}]\n`;
const sliceYaml = (name: string, owner: string, ips: string[]) =>
  `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: ${name}, labels: {kubernetes.io/service-name: ${owner}}}\naddressType: IPv4\nports: [{port: 8080}]\nendpoints:\n${ips.map((i) => `- addresses: [${i}]\n  conditions: {ready: true}\n`).join('')}`;

describe('sources/manifests (directory source)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-manifests-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('R7.1/R7.2: loads Services and slices, mirrors manual Endpoints of a selectorless Service', async () => {
    writeFileSync(
      join(dir, 'a.yaml'),
      `${svcYaml('my-service')}---\n${epsYaml('my-service', ['192.0.2.42'])}`,
    );
    writeFileSync(
      join(dir, 'b.yml'),
      `${svcYaml('web', '  selector: {app: web}\n')}---\n${sliceYaml('web-1', 'web', ['10.244.1.5'])}`,
    );
    writeFileSync(join(dir, 'ignored.txt'), 'not yaml: [');
    writeFileSync(join(dir, '.hidden.yaml'), 'not yaml: [');
    const sink = new RecordingSink();
    const src = new ManifestSource({ dir, sink });
    const scan = await src.load();
    expect(scan.problems).to.deep.equal([]);
    expect([...sink.services.keys()].sort()).to.deep.equal(['default/my-service', 'default/web']);
    expect(sink.sliceAddresses('my-service')).to.deep.equal(['192.0.2.42']);
    expect(sink.sliceAddresses('web')).to.deep.equal(['10.244.1.5']);
  });

  it('does not mirror Endpoints of a Service with a selector, and says why', async () => {
    writeFileSync(
      join(dir, 'a.yaml'),
      `${svcYaml('s', '  selector: {app: s}\n')}---\n${epsYaml('s', ['10.0.0.9'])}`,
    );
    const sink = new RecordingSink();
    const scan = await new ManifestSource({ dir, sink }).load();
    expect(sink.slices.size).to.equal(0);
    expect(scan.problems.map((p) => p.message)).to.deep.equal([
      'Endpoints default/s not mirrored to EndpointSlices: its Service has a selector (the EndpointSlice controller owns its slices)',
    ]);
  });

  it('a parse error names file and line and keeps the last good state of that file', async () => {
    const f = join(dir, 'svc.yaml');
    writeFileSync(f, `${svcYaml('keep')}---\n${epsYaml('keep', ['10.0.0.5'])}`);
    writeFileSync(join(dir, 'other.yaml'), svcYaml('other'));
    const sink = new RecordingSink();
    const src = new ManifestSource({ dir, sink });
    await src.load();
    writeFileSync(
      f,
      `${svcYaml('keep')}---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: keep\n`,
    );
    writeFileSync(join(dir, 'other.yaml'), svcYaml('other2'));
    const scan = await src.rescan();
    const err = scan.problems.find((p) => p.severity === 'error');
    expect(err?.file).to.equal(f);
    expect(err?.line).to.be.within(9, 12);
    expect([...sink.services.keys()].sort()).to.deep.equal(['default/keep', 'default/other2']);
    expect(sink.sliceAddresses('keep')).to.deep.equal(['10.0.0.5']);
    writeFileSync(f, `${svcYaml('keep')}---\n${epsYaml('keep', ['10.0.0.6', '10.0.0.7'])}`);
    const fixed = await src.rescan();
    expect(fixed.problems).to.deep.equal([]);
    expect(sink.sliceAddresses('keep')).to.deep.equal(['10.0.0.6', '10.0.0.7']);
  });

  it('re-reads only changed files and pushes only changed objects', async () => {
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `s${i}.yaml`), svcYaml(`s${i}`));
    const sink = new RecordingSink();
    const src = new ManifestSource({ dir, sink });
    await src.load();
    expect(sink.calls).to.equal(20);
    writeFileSync(join(dir, 's3.yaml'), svcYaml('s3', '  type: NodePort\n'));
    const scan = await src.rescan();
    expect(scan.changedFiles).to.deep.equal([join(dir, 's3.yaml')]);
    expect(sink.calls).to.equal(21);
    writeFileSync(join(dir, 's4.yaml'), `# only a comment changed\n${svcYaml('s4')}`);
    await src.rescan();
    expect(sink.calls).to.equal(21);
  });

  it('removes the objects of a deleted file, and mirrored slices with their Endpoints', async () => {
    writeFileSync(join(dir, 'svc.yaml'), svcYaml('m'));
    writeFileSync(join(dir, 'eps.yaml'), epsYaml('m', ['10.0.0.1']));
    const sink = new RecordingSink();
    const src = new ManifestSource({ dir, sink });
    await src.load();
    expect(sink.slices.size).to.equal(1);
    unlinkSync(join(dir, 'eps.yaml'));
    await src.rescan();
    expect(sink.slices.size).to.equal(0);
    expect(sink.services.size).to.equal(1);
    writeFileSync(join(dir, 'eps.yaml'), epsYaml('m', ['10.0.0.1']));
    await src.rescan();
    expect(sink.slices.size).to.equal(1);
    // Giving the Service a selector hands its endpoints to the EndpointSlice controller.
    writeFileSync(join(dir, 'svc.yaml'), svcYaml('m', '  selector: {app: m}\n'));
    await src.rescan();
    expect(sink.slices.size).to.equal(0);
    unlinkSync(join(dir, 'svc.yaml'));
    await src.rescan();
    expect(sink.services.size).to.equal(0);
  });

  it('an object defined in two files: the last file by name wins, with a warning naming both', async () => {
    writeFileSync(join(dir, 'a.yaml'), svcYaml('dup', '  type: NodePort\n'));
    writeFileSync(join(dir, 'b.yaml'), svcYaml('dup'));
    const sink = new RecordingSink();
    const src = new ManifestSource({ dir, sink });
    const scan = await src.load();
    expect(sink.services.get('default/dup')?.spec?.type).to.equal(undefined);
    expect(scan.problems).to.deep.equal([
      {
        file: join(dir, 'a.yaml'),
        line: 1,
        column: 1,
        severity: 'warning',
        message: `Service default/dup is ignored: defined again at ${join(dir, 'b.yaml')}:1, which is used`,
      },
    ]);
    unlinkSync(join(dir, 'b.yaml'));
    const after = await src.rescan();
    expect(sink.services.get('default/dup')?.spec?.type).to.equal('NodePort');
    expect(after.problems).to.deep.equal([]);
  });

  it('an object defined twice in one file: the same rule, the later one wins', async () => {
    const f = join(dir, 'a.yaml');
    writeFileSync(f, `${svcYaml('dup', '  type: NodePort\n')}---\n${svcYaml('dup')}`);
    const sink = new RecordingSink();
    const scan = await new ManifestSource({ dir, sink }).load();
    expect(sink.services.get('default/dup')?.spec?.type).to.equal(undefined);
    expect(scan.problems).to.deep.equal([
      {
        file: f,
        line: 1,
        column: 1,
        severity: 'warning',
        message: `Service default/dup is ignored: defined again at ${f}:9, which is used`,
      },
    ]);
  });

  it('first read of a file with one bad document: the other documents are used', async () => {
    const f = join(dir, 'a.yaml');
    writeFileSync(
      f,
      `${svcYaml('one')}---\napiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\n---\n${svcYaml('two')}`,
    );
    const sink = new RecordingSink();
    const scan = await new ManifestSource({ dir, sink }).load();
    expect([...sink.services.keys()].sort()).to.deep.equal(['default/one', 'default/two']);
    expect(scan.problems).to.have.length(1);
    expect(scan.problems[0]).to.include({ file: f, line: 8, severity: 'error' });
  });

  it('reports unreadable files, dangling links and subdirectories; skips ..data quietly', async () => {
    writeFileSync(join(dir, 'ok.yaml'), svcYaml('ok'));
    symlinkSync('nowhere.yaml', join(dir, 'dangling.yaml'));
    symlinkSync('loop.yaml', join(dir, 'loop.yaml'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'svc.yaml'), svcYaml('nested'));
    // A ConfigMap volume's internals, and a visible link into them, which is read.
    mkdirSync(join(dir, '..2024_01_01'));
    writeFileSync(join(dir, '..2024_01_01', 'cm.yaml'), svcYaml('cm'));
    symlinkSync('..2024_01_01', join(dir, '..data'));
    symlinkSync(join('..data', 'cm.yaml'), join(dir, 'cm.yaml'));
    const sink = new RecordingSink();
    const scan = await new ManifestSource({ dir, sink }).load();
    expect([...sink.services.keys()].sort()).to.deep.equal(['default/cm', 'default/ok']);
    expect(scan.problems.map((p) => `${p.file} ${p.severity}: ${p.message}`)).to.deep.equal([
      `${join(dir, 'dangling.yaml')} warning: skipped: a symbolic link to nothing (nowhere.yaml)`,
      `${join(dir, 'loop.yaml')} error: skipped: cannot read the file: too many symbolic links encountered`,
      `${join(dir, 'sub')} warning: skipped: a directory (subdirectories are not read)`,
    ]);
  });

  it('follows the directory with fs.watch, including a ConfigMap-style ..data symlink swap', async () => {
    // As a mounted ConfigMap: visible names are links into ..data, which is swapped atomically.
    mkdirSync(join(dir, '..v1'));
    writeFileSync(join(dir, '..v1', 'svc.yaml'), svcYaml('cm'));
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'svc.yaml'), join(dir, 'svc.yaml'));
    const sink = new RecordingSink();
    const scans: string[][] = [];
    const src = new ManifestSource({
      dir,
      sink,
      debounceMs: 30,
      onScan: (s) => scans.push(s.changedFiles),
    });
    await src.load();
    src.start();
    try {
      expect(sink.services.get('default/cm')?.spec?.type).to.equal(undefined);
      mkdirSync(join(dir, '..v2'));
      writeFileSync(join(dir, '..v2', 'svc.yaml'), svcYaml('cm', '  type: NodePort\n'));
      symlinkSync('..v2', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      const end = Date.now() + 5000;
      while (sink.services.get('default/cm')?.spec?.type !== 'NodePort' && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(sink.services.get('default/cm')?.spec?.type).to.equal('NodePort');
      writeFileSync(join(dir, 'new.yaml'), svcYaml('fresh'));
      while (!sink.services.has('default/fresh') && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(sink.services.has('default/fresh')).to.equal(true);
    } finally {
      src.stop();
    }
  });
});

// Reload on change, including the Kubernetes ConfigMap volume layout: config.yaml → ..data/
// config.yaml, ..data → ..<timestamp>; an update renames a new ..data symlink over the old.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Registry } from 'prom-client';
import {
  loadConfig,
  watchConfig,
  type ConfigError,
  type KubeIpvsConfig,
} from '../../../lib/config/index.js';

const HEAD = 'apiVersion: kube-ipvs.io/v1alpha1\nkind: KubeIpvsConfiguration\n';

class ConfigMapDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-watch-'));
  private n = 0;
  readonly file = join(this.dir, 'config.yaml');

  constructor(initial: string) {
    this.publish(initial);
    symlinkSync('..data/config.yaml', this.file);
  }

  /** What the kubelet does: new timestamped dir, new ..data_tmp symlink, rename over ..data. */
  publish(text: string): void {
    const version = `..2026_11_22_00_00_0${this.n++}`;
    mkdirSync(join(this.dir, version));
    writeFileSync(join(this.dir, version, 'config.yaml'), text);
    symlinkSync(version, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function waitFor<T>(get: () => T | undefined, ms = 5000): Promise<T> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = get();
      if (v !== undefined) return resolve(v);
      if (Date.now() - start > ms) return reject(new Error('timed out waiting for the watcher'));
      setTimeout(tick, 20);
    };
    tick();
  });
}

describe('config/watch', () => {
  let cm: ConfigMapDir;
  afterEach(() => cm?.remove());

  it('applies a valid new config published by a ConfigMap ..data symlink swap', async () => {
    cm = new ConfigMapDir(HEAD + 'scheduler: rr\n');
    const first = await loadConfig(cm.file);
    expect(first.ok).to.equal(true);
    if (!first.ok) return;
    const seen: KubeIpvsConfig[] = [];
    const w = watchConfig(cm.file, first, {
      onChange: (c) => seen.push(c),
      debounceMs: 20,
      pollIntervalMs: 0,
    });
    try {
      cm.publish(HEAD + 'scheduler: lc\nsyncPeriod: 10s\n');
      const c = await waitFor(() => seen[0]);
      expect(c.scheduler).to.equal('lc');
      expect(c.syncPeriod).to.equal(10_000);
      expect(w.current.scheduler).to.equal('lc');
      expect(w.failedReloads).to.equal(0);
    } finally {
      w.close();
    }
  });

  it('rejects an invalid new config: old config stays, errors reported, failure counter up once', async () => {
    cm = new ConfigMapDir(HEAD + 'scheduler: sh\n');
    const first = await loadConfig(cm.file);
    if (!first.ok) throw new Error('initial config invalid');
    const registry = new Registry();
    const counter = new Counter({
      name: 'kube_ipvs_config_reload_failures_total',
      help: 'Rejected config reloads',
      registers: [registry],
    });
    const changes: KubeIpvsConfig[] = [];
    const failures: ConfigError[][] = [];
    const w = watchConfig(cm.file, first, {
      onChange: (c) => changes.push(c),
      onError: (e) => failures.push(e),
      failedReloads: counter,
      debounceMs: 20,
      pollIntervalMs: 0,
    });
    try {
      cm.publish(HEAD + 'scheduler: fastest\n');
      const errs = await waitFor(() => failures[0]);
      expect(errs[0]?.text).to.match(/config\.yaml:3:12: scheduler: expected an IPVS scheduler/);
      expect(w.current.scheduler).to.equal('sh');
      expect(w.failedReloads).to.equal(1);
      expect(
        (await registry.getSingleMetric('kube_ipvs_config_reload_failures_total')?.get())?.values[0]
          ?.value,
      ).to.equal(1);

      // The same bad content seen again (another event, a poll) is not a new failure.
      await w.check();
      expect(w.failedReloads).to.equal(1);

      cm.publish(HEAD + 'scheduler: nq\n');
      const c = await waitFor(() => changes[0]);
      expect(c.scheduler).to.equal('nq');
      expect(w.failedReloads).to.equal(1);
      expect(changes).to.have.length(1);
    } finally {
      w.close();
    }
  });

  it('ignores events that do not change the content', async () => {
    cm = new ConfigMapDir(HEAD);
    const first = await loadConfig(cm.file);
    if (!first.ok) throw new Error('initial config invalid');
    const changes: KubeIpvsConfig[] = [];
    const w = watchConfig(cm.file, first, {
      onChange: (c) => changes.push(c),
      debounceMs: 20,
      pollIntervalMs: 0,
    });
    try {
      cm.publish(HEAD); // new ..data, same bytes
      writeFileSync(join(cm.dir, 'unrelated'), 'x');
      await new Promise((r) => setTimeout(r, 150));
      await w.check();
      expect(changes).to.deep.equal([]);
      expect(w.failedReloads).to.equal(0);
    } finally {
      w.close();
    }
  });

  it('picks up a plain (non-ConfigMap) file rewritten in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-watch-plain-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, HEAD);
    const first = await loadConfig(file);
    if (!first.ok) throw new Error('initial config invalid');
    const changes: KubeIpvsConfig[] = [];
    const w = watchConfig(file, first, {
      onChange: (c) => changes.push(c),
      debounceMs: 20,
      pollIntervalMs: 50,
    });
    try {
      writeFileSync(file, HEAD + 'strictARP: true\n');
      const c = await waitFor(() => changes[0]);
      expect(c.strictARP).to.equal(true);
    } finally {
      w.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

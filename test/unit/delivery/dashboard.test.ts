// The Grafana dashboard shipped in the chart: rendered as a ConfigMap when asked, valid
// JSON, and every query names a metric the daemon exports, with labels that metric has
// (a renamed metric would leave a panel silently empty).
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createMetrics, describeMetrics } from '../../../lib/serve/metrics.js';
import { helmBinary, template, type K8sObject } from '../../harness/helm.js';
import { validateObject } from '../../harness/k8s-validate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const file = join(root, 'charts/kube-ipvs/dashboards/kube-ipvs.json');

interface Panel {
  title: string;
  targets: { expr: string }[];
}

/** Metric name → label names, for ours and for the process metric the dashboard uses. */
function exported(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const d of describeMetrics(createMetrics().registry)) {
    m.set(d.name, d.labels);
    if (d.type === 'histogram')
      for (const s of ['_bucket', '_sum', '_count'])
        m.set(d.name + s, s === '_bucket' ? [...d.labels, 'le'] : d.labels);
  }
  m.set('process_resident_memory_bytes', []);
  return m;
}

/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];

describe('charts/kube-ipvs: the Grafana dashboard', function () {
  this.timeout(120_000);
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { uid: string; panels: Panel[] };

  it('every query names exported metrics and only their labels', () => {
    const metrics = exported();
    const used = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.targets.length, p.title).to.be.above(0);
      for (const t of p.targets) {
        const names = [...t.expr.matchAll(/\b(kube_ipvs_\w+|process_\w+)/g)].map((x) => x[1] ?? '');
        expect(names, `${p.title}: ${t.expr}`).to.have.length.above(0);
        for (const n of names) {
          expect(metrics.has(n), `${p.title}: unknown metric ${n}`).to.equal(true);
          used.add(n.replace(/_(bucket|sum|count)$/, ''));
          const allowed = [...(metrics.get(n) ?? []), ...TARGET_LABELS];
          const labels = [
            ...[...t.expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((x) => (x[1] ?? '').split(',')),
            ...[...t.expr.matchAll(/(\w+)=~?"/g)].map((x) => x[1] ?? ''),
          ].map((l) => l.trim());
          for (const l of labels)
            expect(allowed, `${p.title}: ${n} has no label ${l}`).to.include(l);
        }
      }
    }
    // Every metric of ours is on some panel.
    const ours = describeMetrics(createMetrics().registry).map((d) => d.name);
    expect(ours.filter((n) => !used.has(n))).to.deep.equal([]);
  });

  it('catches a query on a metric the daemon does not export', () => {
    const metrics = exported();
    expect(metrics.has('kube_ipvs_sync_duration_seconds_bucket')).to.equal(true);
    expect(metrics.has('kube_ipvs_syncs_total')).to.equal(false);
  });

  it('is rendered as a labelled ConfigMap only when dashboard.enabled is set', async function () {
    this.timeout(600_000);
    await helmBinary();
    const off = await template();
    expect(off.filter((o) => o.metadata.name.endsWith('-dashboard'))).to.deep.equal([]);
    const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-dash-'));
    let on: K8sObject[];
    try {
      const values = join(dir, 'values.yaml');
      writeFileSync(values, stringify({ dashboard: { enabled: true, namespace: 'monitoring' } }));
      on = await template(['--values', values]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const cms = on.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard'));
    expect(cms).to.have.length(1);
    const cm = cms[0] as K8sObject & { data: Record<string, string> };
    validateObject(cm);
    expect(cm.metadata.namespace).to.equal('monitoring');
    expect(cm.metadata.labels?.grafana_dashboard).to.equal('1');
    expect(JSON.parse(cm.data['kube-ipvs.json'] ?? '')).to.deep.equal(dashboard);
  });
});

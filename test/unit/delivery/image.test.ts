// The container image, checked without a container engine: the Dockerfile's stages and
// copies against this (built) checkout, its entrypoint against the chart, and the runtime
// stage's files laid out in a directory of their own, where the commands must run.
import { expect } from 'chai';
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type CommandError } from '../../harness/exec.js';
import { helmBinary, template, type K8sObject } from '../../harness/helm.js';

// dist/test/unit/delivery → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

interface Stage {
  image: string;
  name?: string;
  workdir: string;
  copies: Copy[];
  runs: string[];
  entrypoint?: string[];
  cmd?: string[];
}

/** The Dockerfile's stages: instructions joined across continuation lines, comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    const stage = stages[stages.length - 1];
    if (op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      expect(m, line).to.not.equal(null);
      stages.push({ image: m?.[1] ?? '', name: m?.[2], workdir: '/', copies: [], runs: [] });
      continue;
    }
    expect(stage, `${line} before FROM`).to.not.equal(undefined);
    if (!stage) continue;
    if (op === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, rest);
    else if (op === 'RUN') stage.runs.push(rest);
    else if (op === 'ENTRYPOINT') stage.entrypoint = JSON.parse(rest) as string[];
    else if (op === 'CMD') stage.cmd = JSON.parse(rest) as string[];
    else if (op === 'COPY') {
      const words = rest.split(/\s+/);
      const from = words[0]?.startsWith('--from=') ? words.shift()?.slice(7) : undefined;
      const dest = posix.resolve(stage.workdir, words.pop() ?? '');
      stages[stages.length - 1]?.copies.push({ from, sources: words, dest });
    }
  }
  return stages;
}

/** .dockerignore patterns (top-level names and simple globs, as this project writes them). */
function ignored(patterns: string[], path: string): boolean {
  return patterns.some((p) => {
    const re = new RegExp(
      `^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`,
    );
    return re.test(path);
  });
}

/** Where a COPY puts one source, for a directory destination ("./x/" or an existing dir). */
function target(copy: Copy, source: string): string {
  return copy.sources.length > 1 || copy.dest.endsWith('/')
    ? posix.join(copy.dest, posix.basename(source))
    : copy.dest;
}

describe('Dockerfile', function () {
  this.timeout(60_000);
  const stages = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  const build = stages[0] as Stage;
  const runtime = stages[stages.length - 1] as Stage;
  const dockerignore = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  let chart: K8sObject[];

  before(async function () {
    this.timeout(600_000);
    await helmBinary();
    chart = await template();
  });

  it('has a build stage on Node 24 and a runtime stage on Node 24 slim with the node tools', () => {
    expect(stages).to.have.length(2);
    expect(build.image).to.match(/^node:24(-[a-z]+)?$/);
    expect(build.name).to.equal('build');
    expect(runtime.image).to.match(/^node:24(-[a-z]+)?-slim$/);
    const install = runtime.runs.join(' ');
    for (const pkg of ['iptables', 'ipset', 'kmod', 'conntrack']) {
      expect(install).to.match(new RegExp(`apt-get install [^&]*\\b${pkg}\\b`), pkg);
    }
  });

  it('compiles the native addon, the TypeScript and the bundles in the build stage', () => {
    const steps = build.runs.join(' && ');
    expect(steps).to.contain('node-gyp rebuild');
    expect(steps).to.contain('npm run build');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.build).to.equal('tsc -p tsconfig.json && node scripts/bundle.mjs');
    // The bundles hold the dependencies: the runtime stage copies no node_modules.
    const copied = runtime.copies.flatMap((c) => c.sources);
    expect(copied.filter((p) => p.includes('node_modules'))).to.deep.equal([]);
  });

  it('.dockerignore keeps node_modules, dist, build output and caches out', () => {
    for (const p of ['node_modules', 'dist', 'build', '.cache', '.test-results']) {
      expect(ignored(dockerignore, p), p).to.equal(true);
    }
    expect(ignored(dockerignore, 'lib')).to.equal(false);
  });

  it('every path copied from the build context exists and is not ignored', () => {
    const fromContext = stages.flatMap((s) => s.copies.filter((c) => c.from === undefined));
    expect(fromContext.length).to.be.greaterThan(3);
    for (const copy of fromContext) {
      for (const source of copy.sources) {
        expect(existsSync(join(root, source)), source).to.equal(true);
        expect(ignored(dockerignore, source), `${source} is in .dockerignore`).to.equal(false);
      }
    }
  });

  it('every path copied from the build stage exists after a build of this checkout', () => {
    const fromBuild = runtime.copies.filter((c) => c.from === 'build');
    expect(
      fromBuild.flatMap((c) => c.sources).map((p) => relative(build.workdir, p)),
    ).to.have.members(['package.json', 'binding.gyp', 'build/Release/netlink.node', 'dist/bundle']);
    for (const copy of fromBuild) {
      for (const source of copy.sources) {
        expect(source.startsWith(`${build.workdir}/`), source).to.equal(true);
        const path = relative(build.workdir, source);
        expect(existsSync(join(root, path)), path).to.equal(true);
      }
    }
  });

  it('its entrypoint and default arguments are the chart container command and args', () => {
    const ds = chart.find((o) => o.kind === 'DaemonSet') as K8sObject;
    const spec = (ds.spec as { template: { spec: { containers: Record<string, unknown>[] } } })
      .template.spec;
    const container = spec.containers[0] as { command: string[]; args: string[] };
    expect(runtime.entrypoint).to.deep.equal(['kube-ipvs']);
    expect(container.command).to.deep.equal(runtime.entrypoint);
    expect(container.args).to.deep.equal(runtime.cmd);
  });

  it('puts kube-ipvs and lvsadm on the PATH, linked to executable files it copies', () => {
    const links = [...runtime.runs.join(' ').matchAll(/ln -s (\S+) \/usr\/local\/bin\/(\S+)/g)].map(
      (m) => ({ to: m[1] as string, name: m[2] as string }),
    );
    expect(links.map((l) => l.name).sort()).to.deep.equal(['kube-ipvs', 'lvsadm']);
    const bin = runtime.copies.find((c) => c.from === undefined && c.sources.includes('bin'));
    expect(bin, 'COPY bin').to.not.equal(undefined);
    for (const link of links) {
      const inRepo = relative(target(bin as Copy, 'bin'), link.to);
      expect(inRepo.startsWith('..'), link.to).to.equal(false);
      accessSync(join(root, 'bin', inRepo), constants.X_OK);
    }
  });

  describe('the runtime stage, laid out in a directory as the image holds it', () => {
    let dir: string;

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-image-'));
      const prefix = runtime.workdir;
      for (const copy of runtime.copies) {
        for (const source of copy.sources) {
          const from = copy.from === 'build' ? relative(build.workdir, source) : source;
          const to = join(dir, relative(prefix, target(copy, source)));
          expect(to.startsWith(dir), `${source} is copied outside ${prefix}`).to.equal(true);
          mkdirSync(dirname(to), { recursive: true });
          cpSync(join(root, from), to, { recursive: true });
        }
      }
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    it('kube-ipvs checks the config the chart ships, from the image files alone', async () => {
      const cm = chart.find((o) => o.kind === 'ConfigMap') as K8sObject;
      const config = join(dir, 'config.yaml');
      writeFileSync(config, (cm.data as Record<string, string>)['config.yaml'] ?? '');
      const r = await run(process.execPath, [
        join(dir, 'bin/kube-ipvs.js'),
        'check',
        '--config',
        config,
      ]);
      expect(r.stdout).to.contain('valid; backend auto');
      const v = await run(process.execPath, [join(dir, 'bin/kube-ipvs.js'), 'version']);
      expect(v.stdout).to.match(/^kube-ipvs 0\.1\.0 /);
    });

    it('the native addon and the API client load from the image files alone', async () => {
      // check opens the IPVS family through the addon: a missing addon is named instead.
      const r = await run(process.execPath, [join(dir, 'bin/kube-ipvs.js'), 'check']);
      expect(r.stdout).to.match(/^IPVS: /m);
      expect(r.stdout + r.stderr).to.not.match(/addon/);
      // The kubeconfig is read by the API client, a chunk of its own in the bundle.
      const p = await run(process.execPath, [
        join(dir, 'bin/kube-ipvs.js'),
        'plan',
        '--kubeconfig',
        join(dir, 'no-such-kubeconfig'),
      ]).then(
        () => expect.fail('plan with a missing kubeconfig succeeded'),
        (e: unknown) => e as CommandError,
      );
      expect(p.exitCode).to.equal(1);
      expect(p.stderr).to.match(
        /^kube-ipvs plan: loading the kubeconfig .*: no such file or directory\n$/,
      );
    });

    it('lvsadm runs from the image files', async () => {
      const r = await run(process.execPath, [join(dir, 'bin/lvsadm.js'), '--help']);
      expect(r.stdout).to.contain('Usage:');
    });
  });
});

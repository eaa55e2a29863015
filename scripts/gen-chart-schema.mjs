// Writes charts/kube-ipvs/values.schema.json: the chart's own values, and under `config` the
// config file's JSON Schema (generated from the zod schema, lib/config/json-schema.ts), so
// `helm install` refuses a config the daemon would refuse. Run after `npm run build`.
// `--check` exits 1 instead of writing when the file is stale; `--chart DIR` points at
// another copy of the chart (tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { configJsonSchema } from '../dist/lib/config/json-schema.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: flags } = parseArgs({
  options: { check: { type: 'boolean' }, chart: { type: 'string' } },
});
const target = join(flags.chart ?? join(root, 'charts/kube-ipvs'), 'values.schema.json');

/** The config file's schema as values: the chart writes apiVersion and kind itself. */
function configValues() {
  const schema = configJsonSchema(); // a fresh copy
  delete schema.$id;
  delete schema.$schema;
  delete schema.title;
  delete schema.required;
  delete schema.properties.apiVersion;
  delete schema.properties.kind;
  return {
    ...schema,
    description:
      'The KubeIpvsConfiguration file without apiVersion and kind (see docs/config.md). ' +
      'The chart reads the ports of the two bind addresses, so both must be set.',
    required: ['healthzBindAddress', 'metricsBindAddress'],
  };
}

const str = { type: 'string' };
const bool = { type: 'boolean' };
const map = (description) => ({
  type: 'object',
  additionalProperties: str,
  ...(description ? { description } : {}),
});
const object = (properties, required = Object.keys(properties)) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  required,
});
const int = (minimum) => ({ type: 'integer', minimum });

const probe = object(
  {
    initialDelaySeconds: int(0),
    periodSeconds: int(1),
    timeoutSeconds: int(1),
    failureThreshold: int(1),
  },
  [],
);

const schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Values of the kube-ipvs chart',
  ...object(
    {
      image: object({
        repository: { type: 'string', minLength: 1 },
        tag: { ...str, description: 'Defaults to the chart appVersion.' },
        pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
      }),
      imagePullSecrets: {
        type: 'array',
        items: object({ name: { type: 'string', minLength: 1 } }),
      },
      nameOverride: str,
      fullnameOverride: str,
      config: configValues(),
      extraArgs: {
        type: 'array',
        items: str,
        description: 'Extra arguments for `kube-ipvs run`, after --config.',
      },
      serviceAccount: object({ create: bool, name: str, annotations: map() }, ['create']),
      rbac: object({ create: bool }),
      priorityClassName: { type: 'string', minLength: 1 },
      tolerations: { type: 'array', items: { type: 'object' } },
      nodeSelector: map('Node labels the pods are scheduled by.'),
      affinity: { type: 'object' },
      podAnnotations: map(),
      podLabels: map(),
      resources: object(
        {
          requests: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
          limits: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
        },
        [],
      ),
      terminationGracePeriodSeconds: int(0),
      updateStrategy: object({ maxUnavailable: { type: ['integer', 'string'] } }),
      livenessProbe: probe,
      readinessProbe: probe,
      metrics: object({
        service: object({ enabled: bool, annotations: map() }, ['enabled']),
        serviceMonitor: object(
          { enabled: bool, interval: { type: 'string', minLength: 1 }, labels: map() },
          ['enabled'],
        ),
      }),
      dashboard: object({ enabled: bool, namespace: { type: 'string' }, labels: map() }, [
        'enabled',
      ]),
      // Helm passes `global` to every chart.
      global: { type: 'object' },
    },
    ['image', 'config', 'priorityClassName', 'metrics'],
  ),
};

const options = (await prettier.resolveConfig(target)) ?? {};
const text = await prettier.format(JSON.stringify(schema), { ...options, parser: 'json' });
let have = '';
try {
  have = readFileSync(target, 'utf8');
} catch {
  // missing: stale
}
if (have === text) process.exit(0);
if (flags.check) {
  console.error(`${target} is stale: run \`npm run chart:schema\``);
  process.exit(1);
}
writeFileSync(target, text);
console.log(`wrote ${target}`);

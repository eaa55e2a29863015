// The config file's JSON Schema, generated from the zod schema so it cannot drift: used
// for docs/config.md, editor support and the Helm chart's values schema.
import { z } from 'zod';
import { API_VERSION, configSchema } from './schema.js';

let cached: Record<string, unknown> | undefined;

/** JSON Schema (draft 2020-12) of the file as written: durations are strings here. */
export function configJsonSchema(): Record<string, unknown> {
  cached ??= {
    $id: `https://kube-ipvs.io/schemas/${API_VERSION}/KubeIpvsConfiguration.json`,
    title: 'KubeIpvsConfiguration',
    ...z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }),
  };
  return structuredClone(cached);
}

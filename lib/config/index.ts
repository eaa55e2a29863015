export {
  API_VERSION,
  KIND,
  configSchema,
  defaultConfig,
  type KubeIpvsConfig,
  type ServiceRule,
} from './schema.js';
export { parseDuration, formatDuration } from './duration.js';
export { loadConfig, parseConfig, formatPath, type ConfigError, type LoadResult } from './load.js';
export {
  watchConfig,
  type ConfigWatcher,
  type ConfigWatchOptions,
  type Incrementable,
} from './watch.js';
export { checkConfig, summarizeConfig, type CheckResult } from './check.js';
export { configJsonSchema } from './json-schema.js';
export { renderConfigDocs, defaultsDocument, spliceReadmeConfig } from './docs.js';

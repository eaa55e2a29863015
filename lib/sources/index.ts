export { SERVICE_NAME_LABEL, serviceKey, type ObjectSink } from './sink.js';
export {
  ServiceStore,
  serviceVirtualIPs,
  type DesiredEntry,
  type StoreOptions,
  type TranslateContext,
  type TranslateFn,
  type TranslateOutput,
} from './store.js';
export {
  KubernetesSource,
  PROXY_LABEL_SELECTOR,
  loadKubeConfig,
  type KubernetesSourceOptions,
} from './kubernetes.js';
export {
  ResilientInformer,
  DEFAULT_BACKOFF,
  type BackoffOptions,
  type InformerStats,
} from './informer.js';
export { ManifestSource, type ManifestSourceOptions, type ScanResult } from './manifests.js';
export {
  parseManifest,
  formatProblem,
  type ManifestObject,
  type ManifestProblem,
  type ParsedManifest,
} from './manifest-parse.js';
export {
  mirrorEndpoints,
  mirrorRefusal,
  MAX_ENDPOINTS_PER_SUBSET,
  type MirrorResult,
} from './endpoints-mirror.js';
export { modelStore, nodeContextFrom, type ModelStore } from './model-store.js';

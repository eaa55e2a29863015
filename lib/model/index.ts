export * from './types.js';
export {
  translate,
  usableEndpoints,
  serviceVirtualIPs,
  DEFAULT_AFFINITY_TIMEOUT,
  SERVICE_NAME_LABEL,
  type TranslateConfig,
} from './translate.js';
export { collectDesired, type Desired, type ServiceResult } from './desired.js';
export {
  resolveScheduler,
  configScheduler,
  ruleMatches,
  SCHEDULER_ANNOTATION,
  SCHEDULER_FLAGS_ANNOTATION,
  type SchedulerChoice,
  type SchedulerConfig,
} from './scheduler.js';

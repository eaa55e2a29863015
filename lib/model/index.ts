export * from './types.js';
export {
  translate,
  usableEndpoints,
  DEFAULT_AFFINITY_TIMEOUT,
  SERVICE_NAME_LABEL,
  type TranslateConfig,
} from './translate.js';
export {
  resolveScheduler,
  configScheduler,
  ruleMatches,
  SCHEDULER_ANNOTATION,
  SCHEDULER_FLAGS_ANNOTATION,
  type SchedulerChoice,
  type SchedulerConfig,
} from './scheduler.js';
export {
  SCHEDULERS,
  SCHEDULER_FLAG_NAMES,
  canonicalFlags,
  displayFlags,
  flagProblem,
  isSchedulerFlagName,
  isSchedulerName,
  schedulerFlagBits,
  type SchedulerFlag,
  type SchedulerFlagName,
  type SchedulerName,
} from './ipvs-schedulers.js';
export {
  parseIp,
  parseCidr,
  cidrContains,
  classifyIp,
  compareIps,
  formatIpBytes,
  hostPort,
  type Ip,
  type Cidr,
  type AddressClass,
} from './ip.js';

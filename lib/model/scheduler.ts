// Which IPVS scheduler a Service gets: its annotation, else the first matching config
// rule, else the config default. An invalid annotation never blocks the Service: it is
// reported and the config's choice is used.
import type { V1Service } from '@kubernetes/client-node';
import type { KubeIpvsConfig, ServiceRule } from '../config/schema.js';
import {
  SCHEDULERS,
  SCHEDULER_FLAG_NAMES,
  canonicalFlags,
  flagProblem,
  isSchedulerFlagName,
  isSchedulerName,
  type SchedulerFlag,
  type SchedulerFlagName,
  type SchedulerName,
} from '../ipvs/schedulers.js';
import type { Skipped } from './types.js';

export const SCHEDULER_ANNOTATION = 'kube-ipvs.io/scheduler';
export const SCHEDULER_FLAGS_ANNOTATION = 'kube-ipvs.io/scheduler-flags';

/** The field path of an annotation in a report: metadata.annotations["kube-ipvs.io/scheduler"]. */
export function annotationField(annotation: string): string {
  return `metadata.annotations["${annotation}"]`;
}

/** True for the warning resolveScheduler gives when it rejects one of its annotations. */
export function isSchedulerAnnotationWarning(w: Skipped): boolean {
  return (
    w.field === annotationField(SCHEDULER_ANNOTATION) ||
    w.field === annotationField(SCHEDULER_FLAGS_ANNOTATION)
  );
}

export type SchedulerConfig = Pick<KubeIpvsConfig, 'scheduler' | 'schedulerFlags' | 'services'>;

export interface SchedulerChoice {
  scheduler: SchedulerName;
  flags: SchedulerFlag[];
  source: 'annotation' | 'rule' | 'default';
  /** Index into config.services when source is 'rule'. */
  rule?: number;
}

function stringMap(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

export function ruleMatches(rule: ServiceRule, service: V1Service): boolean {
  const meta = stringMap(service.metadata);
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  const { match } = rule;
  if (match.namespace !== undefined && match.namespace !== namespace) return false;
  if (match.name !== undefined && match.name !== meta.name) return false;
  const labels = stringMap(meta.labels);
  for (const [k, v] of Object.entries(match.labels ?? {})) if (labels[k] !== v) return false;
  return true;
}

/** The config's choice for this Service, ignoring annotations. */
export function configScheduler(service: V1Service, config: SchedulerConfig): SchedulerChoice {
  const index = config.services.findIndex((r) => ruleMatches(r, service));
  const rule = config.services[index];
  if (rule) {
    return {
      scheduler: rule.scheduler,
      flags: canonicalFlags(rule.flags),
      source: 'rule',
      rule: index,
    };
  }
  return {
    scheduler: config.scheduler,
    flags: canonicalFlags(config.schedulerFlags),
    source: 'default',
  };
}

/**
 * Resolve the scheduler. `warnings` names the Service and annotation when an annotation was
 * rejected; the result is then the config's choice.
 */
export function resolveScheduler(
  service: V1Service,
  config: SchedulerConfig,
  object: string,
): { choice: SchedulerChoice; warnings: Skipped[] } {
  const fromConfig = configScheduler(service, config);
  const annotations = stringMap(stringMap(service.metadata).annotations);
  const rawScheduler = annotations[SCHEDULER_ANNOTATION];
  const rawFlags = annotations[SCHEDULER_FLAGS_ANNOTATION];
  if (rawScheduler === undefined && rawFlags === undefined)
    return { choice: fromConfig, warnings: [] };

  const warn = (annotation: string, reason: string) => ({
    choice: fromConfig,
    warnings: [
      {
        object,
        field: annotationField(annotation),
        reason: `${reason}; using the configured scheduler ${fromConfig.scheduler}`,
      },
    ],
  });

  let scheduler: SchedulerName = fromConfig.scheduler;
  if (rawScheduler !== undefined) {
    const s = typeof rawScheduler === 'string' ? rawScheduler.trim() : rawScheduler;
    if (!isSchedulerName(s)) {
      return warn(
        SCHEDULER_ANNOTATION,
        `${JSON.stringify(rawScheduler)} is not an IPVS scheduler (allowed: ${SCHEDULERS.join(', ')})`,
      );
    }
    scheduler = s;
  }
  const names: SchedulerFlagName[] = [];
  if (rawFlags !== undefined) {
    if (typeof rawFlags !== 'string') {
      return warn(SCHEDULER_FLAGS_ANNOTATION, 'must be a comma-separated string');
    }
    const parts = rawFlags
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    for (const p of parts) {
      if (!isSchedulerFlagName(p)) {
        return warn(
          SCHEDULER_FLAGS_ANNOTATION,
          `${JSON.stringify(p)} is not a scheduler flag (allowed: ${SCHEDULER_FLAG_NAMES.join(', ')})`,
        );
      }
      const problem = flagProblem(scheduler, p);
      if (problem) return warn(SCHEDULER_FLAGS_ANNOTATION, `${problem}, not ${scheduler}`);
      names.push(p);
    }
  }
  if (rawScheduler === undefined) {
    // Flags alone refine the configured scheduler.
    return {
      choice: { ...fromConfig, flags: canonicalFlags(names), source: 'annotation' },
      warnings: [],
    };
  }
  return {
    choice: { scheduler, flags: canonicalFlags(names), source: 'annotation' },
    warnings: [],
  };
}

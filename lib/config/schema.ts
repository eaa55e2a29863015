// The KubeIpvsConfiguration file: one zod schema is the single source of truth for
// validation, defaults, the exported JSON Schema and docs/config.md.
import { z } from 'zod';
import {
  formatDuration,
  GO_DURATION_PATTERN,
  GO_MAX_DURATION_MS,
  GO_MAX_DURATION_TEXT,
  parseDuration,
  TIMER_MAX_MS,
} from './duration.js';
import { parseCidr, parseIp } from '../net/ip.js';
import {
  SCHEDULERS,
  SCHEDULER_FLAG_NAMES,
  flagProblem,
  isSchedulerFlagName,
  isSchedulerName,
  type SchedulerFlagName,
  type SchedulerName,
} from '../ipvs/schedulers.js';

export const API_VERSION = 'kube-ipvs.io/v1alpha1';
export const KIND = 'KubeIpvsConfiguration';

const DURATION_HELP =
  'a Go duration string such as "30s", "1m30s" or "500ms" (units ns, us, ms, s, m, h)';

/**
 * A duration field. Every one fits Go's time.Duration; `timer` ones must also fit a Node.js
 * timer, and `positive` ones must be above zero.
 */
function duration(def: string, text: string, limits: { timer?: true; positive?: true } = {}) {
  return z
    .string({ error: `expected ${DURATION_HELP}` })
    .regex(GO_DURATION_PATTERN, { error: `expected ${DURATION_HELP}` })
    .transform((s) => parseDuration(s) as number)
    .refine((ms) => ms <= GO_MAX_DURATION_MS, {
      error: `expected at most ${GO_MAX_DURATION_TEXT} (the longest Go duration)`,
      abort: true,
    })
    .refine((ms) => !limits.timer || ms <= TIMER_MAX_MS, {
      error: `expected at most ${formatDuration(TIMER_MAX_MS)} (the longest timer Node.js can set)`,
      abort: true,
    })
    .refine((ms) => !limits.positive || ms > 0, {
      error: 'expected more than 0s (a full resync needs a period)',
    })
    .prefault(def)
    .describe(`${text} Duration string, parsed to milliseconds. Default "${def}".`);
}

const schedulerName = z.enum(SCHEDULERS, {
  error: `expected an IPVS scheduler: one of ${SCHEDULERS.join(', ')}`,
});
const flagName = z.enum(SCHEDULER_FLAG_NAMES, {
  error: `expected a scheduler flag: one of ${SCHEDULER_FLAG_NAMES.join(', ')}`,
});

function checkFlags(
  scheduler: SchedulerName,
  flags: readonly SchedulerFlagName[],
  ctx: z.RefinementCtx,
  path: (string | number)[],
): void {
  flags.forEach((f, i) => {
    const problem = isSchedulerFlagName(f) ? flagProblem(scheduler, f) : undefined;
    if (problem) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, i],
        message: `${problem}, not "${scheduler}"; with ${scheduler} use flag-1, flag-2, flag-3`,
      });
    }
  });
}

function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

const cidr = z.string().refine((s) => parseCidr(s) !== undefined, {
  error: 'expected a CIDR such as "10.0.0.0/8" or "fd00::/64"',
});

const bindAddress = (def: string, text: string) =>
  z
    .string()
    .refine(
      (s) => {
        const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(s);
        if (!m) return false;
        const ip = parseIp(m[1] ?? m[2]);
        const port = Number(m[3]);
        return ip !== undefined && (m[1] === undefined) === (ip.family === 'IPv4') && port <= 65535;
      },
      { error: 'expected IP:port, e.g. "127.0.0.1:10249" or "[::1]:10249"' },
    )
    .default(def)
    .describe(`${text} Default "${def}".`);

const serviceRule = z
  .strictObject({
    match: z
      .strictObject({
        namespace: z
          .string()
          .min(1)
          .optional()
          .describe('Exact namespace of the Service. Optional: unset matches every namespace.'),
        name: z
          .string()
          .min(1)
          .optional()
          .describe('Exact name of the Service. Optional: unset matches every name.'),
        labels: z
          .record(z.string(), z.string())
          .optional()
          .describe(
            'Labels the Service must all carry, with these exact values. Optional: unset matches any labels.',
          ),
      })
      .prefault({})
      .describe(
        'Which Services the rule applies to; every given criterion must hold. Default {} (all).',
      ),
    scheduler: schedulerName.describe('Scheduler for the matching Services. Required.'),
    flags: z
      .array(flagName)
      .prefault([])
      .describe('Scheduler flags for the matching Services (as schedulerFlags). Default [].'),
  })
  .superRefine((rule, ctx) => {
    if (isSchedulerName(rule.scheduler) && Array.isArray(rule.flags)) {
      checkFlags(rule.scheduler, rule.flags, ctx, ['flags']);
    }
  });

export const configSchema = z
  .strictObject({
    apiVersion: z
      .literal(API_VERSION, { error: `expected "${API_VERSION}"` })
      .describe(`Must be "${API_VERSION}". Required.`),
    kind: z.literal(KIND, { error: `expected "${KIND}"` }).describe(`Must be "${KIND}". Required.`),
    backend: z
      .enum(['auto', 'ipvs', 'iptables'], { error: 'expected one of auto, ipvs, iptables' })
      .default('auto')
      .describe(
        'Data plane. "auto" uses IPVS when the kernel offers it (modules load, the IPVS ' +
          'netlink family resolves, a probe service with each configured scheduler can be ' +
          'created) and falls back to iptables otherwise, loudly; "ipvs" refuses to start ' +
          'without IPVS; "iptables" never uses IPVS. Default "auto".',
      ),
    scheduler: schedulerName
      .default('rr')
      .describe(
        `IPVS scheduler for every virtual server unless a Service rule or the ` +
          `kube-ipvs.io/scheduler annotation says otherwise. One of ${SCHEDULERS.join(', ')}. ` +
          'Default "rr" (as kube-proxy).',
      ),
    schedulerFlags: z
      .array(flagName)
      .prefault([])
      .describe(
        "Scheduler flags, as ipvsadm's -b option: flag-1, flag-2, flag-3, or the aliases " +
          'sh-fallback, sh-port (sh only) and mh-fallback, mh-port (mh only). Default [].',
      ),
    services: z
      .array(serviceRule)
      .prefault([])
      .describe(
        'Per-Service scheduler rules. The first rule whose match fits a Service gives its ' +
          'scheduler and flags; the kube-ipvs.io/scheduler annotation on the Service wins over ' +
          'any rule. Default [].',
      ),
    syncPeriod: duration(
      '30s',
      'Longest interval between full resyncs against the kernel, which repair drift (as ' +
        'kube-proxy). Above 0s and at least minSyncPeriod; at most 596h31m23.647s (a Node.js timer).',
      { timer: true, positive: true },
    ),
    minSyncPeriod: duration(
      '1s',
      'Shortest interval between syncs: changes arriving faster are coalesced. kube-proxy ' +
        'defaults this to 1s in iptables and nftables mode (kubernetes/kubernetes#92836) and ' +
        'to 0 in IPVS mode; 1s is kept because a rollout updates EndpointSlices many times a ' +
        'second. "0s" syncs on every change.',
      { timer: true },
    ),
    tcpTimeout: duration(
      '0s',
      'IPVS idle timeout for established TCP connections (ipvsadm --set first value); "0s" leaves the kernel value (900s) alone.',
    ),
    tcpFinTimeout: duration(
      '0s',
      'IPVS timeout for TCP connections after FIN (ipvsadm --set second value); "0s" leaves the kernel value (120s) alone.',
    ),
    udpTimeout: duration(
      '0s',
      'IPVS timeout for UDP flows (ipvsadm --set third value); "0s" leaves the kernel value (300s) alone.',
    ),
    strictARP: z
      .boolean({ error: 'expected true or false' })
      .default(false)
      .describe(
        'Set net.ipv4.conf.all.arp_ignore=1 and arp_announce=2 so the node does not answer ' +
          'ARP for the virtual addresses it makes local (needed by MetalLB L2). Default false.',
      ),
    excludeCIDRs: z
      .array(cidr)
      .prefault([])
      .describe(
        'IPVS virtual servers with an address in these CIDRs are never modified or deleted ' +
          'by kube-ipvs, even if it finds them unexpected. Default [].',
      ),
    nodePortAddresses: z
      .array(
        z.string().refine((s) => s === 'primary' || parseCidr(s) !== undefined, {
          error: 'expected a CIDR such as "192.168.0.0/16", or "primary"',
        }),
      )
      .prefault([])
      .superRefine((list, ctx) => {
        if (list.includes('primary') && list.length > 1) {
          ctx.addIssue({
            code: 'custom',
            path: [list.indexOf('primary')],
            message: '"primary" must be the only entry when used',
          });
        }
      })
      .describe(
        'Node addresses that serve NodePorts: CIDRs (an address in any of them is used), or ' +
          'the single entry "primary" (the Node object\'s first InternalIP per family). Empty ' +
          'means every address on the node except loopback, IPv6 link-local and the dummy ' +
          'interface. Default [].',
      ),
    masqueradeAll: z
      .boolean({ error: 'expected true or false' })
      .default(false)
      .describe('SNAT all traffic to ClusterIPs (kube-proxy --masquerade-all). Default false.'),
    clusterCIDR: z
      .union([z.string(), z.array(z.string())], {
        error: 'expected a CIDR, a comma-separated list of CIDRs, or a list of CIDRs',
      })
      .superRefine((v, ctx) => {
        const items = typeof v === 'string' ? splitList(v) : v;
        const families = new Set<string>();
        items.forEach((s, i) => {
          const c = parseCidr(s);
          if (!c) {
            ctx.addIssue({
              code: 'custom',
              path: typeof v === 'string' ? [] : [i],
              message: `"${s}" is not a CIDR; expected CIDRs such as "10.244.0.0/16" or "fd00:10:244::/56"`,
            });
          } else if (families.has(c.family)) {
            ctx.addIssue({
              code: 'custom',
              path: typeof v === 'string' ? [] : [i],
              message: `at most one CIDR per address family; "${s}" is a second ${c.family} CIDR`,
            });
          } else {
            families.add(c.family);
          }
        });
      })
      .transform((v) => (typeof v === 'string' ? splitList(v) : v))
      .prefault([])
      .describe(
        'Pod network CIDRs, at most one per family, as a list or a comma-separated string (as ' +
          "kube-proxy's clusterCIDR). Traffic to a ClusterIP from outside them is masqueraded. " +
          'Default [] (no such masquerade).',
      ),
    gracefulTermination: z
      .strictObject({
        timeout: duration(
          '15m',
          'A removed TCP or SCTP real server is kept with weight 0 until its connections ' +
            'reach 0 or this time passes. 15m is the kernel TCP idle timeout (900s), ' +
            'so any idle connection entry has expired by then.',
        ),
      })
      .prefault({})
      .describe('Draining of removed real servers. Default {} (every sub-field at its default).'),
    metricsBindAddress: bindAddress(
      '127.0.0.1:10249',
      'Address of /metrics (Prometheus, prefix kube_ipvs_) and /proxyMode (as kube-proxy).',
    ),
    healthzBindAddress: bindAddress(
      '0.0.0.0:10256',
      'Address of /healthz and /livez (as kube-proxy). /healthz answers 503 once the last ' +
        'successful sync, one made while the API server answered, is older than 2 × syncPeriod.',
    ),
    interface: z
      .string()
      .regex(/^[^\s/:]{1,15}$/, {
        error: 'expected a Linux interface name: 1-15 characters, no spaces, "/" or ":"',
      })
      .default('kube-ipvs0')
      .describe(
        'Dummy interface the virtual addresses are made local through (a local route each). ' +
          '"kube-ipvs0", the default, is ' +
          "kube-proxy's, so a node can be taken over in place.",
      ),
  })
  .superRefine((c, ctx) => {
    // Refinements also run over partly invalid input; look only at what parsed.
    if (isSchedulerName(c.scheduler) && Array.isArray(c.schedulerFlags)) {
      checkFlags(c.scheduler, c.schedulerFlags, ctx, ['schedulerFlags']);
    }
    // A sync can never wait longer than the full resync that follows it.
    const { syncPeriod, minSyncPeriod } = c as { syncPeriod: unknown; minSyncPeriod: unknown };
    if (
      typeof syncPeriod === 'number' &&
      typeof minSyncPeriod === 'number' &&
      syncPeriod > 0 &&
      minSyncPeriod > syncPeriod
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['minSyncPeriod'],
        message: `expected at most syncPeriod (${formatDuration(syncPeriod)})`,
      });
    }
  });

/** A match rule of `services`. */
export interface ServiceRule {
  match: { namespace?: string; name?: string; labels?: Record<string, string> };
  scheduler: SchedulerName;
  flags: SchedulerFlagName[];
}

/** The validated configuration. Durations are milliseconds. */
export interface KubeIpvsConfig {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  backend: 'auto' | 'ipvs' | 'iptables';
  scheduler: SchedulerName;
  schedulerFlags: SchedulerFlagName[];
  services: ServiceRule[];
  /** ms */
  syncPeriod: number;
  /** ms */
  minSyncPeriod: number;
  /** ms; 0 = keep the kernel's */
  tcpTimeout: number;
  /** ms; 0 = keep the kernel's */
  tcpFinTimeout: number;
  /** ms; 0 = keep the kernel's */
  udpTimeout: number;
  strictARP: boolean;
  excludeCIDRs: string[];
  /** CIDRs, or ['primary'], or [] for all node addresses */
  nodePortAddresses: string[];
  masqueradeAll: boolean;
  clusterCIDR: string[];
  gracefulTermination: { /** ms */ timeout: number };
  metricsBindAddress: string;
  healthzBindAddress: string;
  interface: string;
}

// Compile-time proof that the schema's output is exactly KubeIpvsConfig.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const schemaMatchesInterface: Exact<z.output<typeof configSchema>, KubeIpvsConfig> = true;
void schemaMatchesInterface;

/** The configuration used when no file is given: every default. */
export function defaultConfig(): KubeIpvsConfig {
  return configSchema.parse({ apiVersion: API_VERSION, kind: KIND });
}

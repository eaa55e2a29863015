// IPVS over generic netlink: read the table (services, destinations, stats, timeouts,
// info, daemons) and change it one operation at a time or in batches.
import {
  type MessageResult,
  type NetlinkConnection,
  type Request,
  notSent,
  repliesUnknown,
} from '../netlink/connection.js';
import { NetlinkDumpInterruptedError, NetlinkError } from '../netlink/errors.js';
import { decodeGenl, genlNested, genlWriterRequest, resolveFamily } from '../netlink/genl.js';
import { AttrWriter, type PayloadWriter } from '../netlink/writer.js';
import { GENL_HDRLEN, NETLINK_GENERIC } from '../netlink/constants.js';
import type { NetlinkMessage } from '../netlink/message.js';
import { type OpenOptions, openConnection } from '../netlink/open.js';
import {
  type IpvsDestinationId,
  type IpvsServiceId,
  decodeDaemon,
  decodeDestination,
  decodeInfo,
  decodeService,
  decodeTimeouts,
  describeService,
  writeDaemon,
  writeDestination,
  writeDestinationId,
  writeServiceNest,
  writeTimeouts,
} from './codec.js';
import * as C from './constants.js';
import { hostPort } from '../inet/index.js';
import type { IpvsDaemon, IpvsDestination, IpvsInfo, IpvsService, IpvsTimeouts } from './types.js';

export type IpvsOp =
  | { op: 'addService'; service: IpvsService }
  | { op: 'updateService'; service: IpvsService }
  | { op: 'deleteService'; service: IpvsServiceId }
  | { op: 'addDestination'; service: IpvsServiceId; destination: IpvsDestination }
  | { op: 'updateDestination'; service: IpvsServiceId; destination: IpvsDestination }
  | { op: 'deleteDestination'; service: IpvsServiceId; destination: IpvsDestinationId };

export interface DumpOptions {
  /** Decode the counters (default true). */
  stats?: boolean;
}

export type IpvsOpResult = { ok: true } | { ok: false; error: Error };

/** The one result of every op that succeeded: a cold sync has 100 000+ of them. */
const APPLIED: IpvsOpResult = Object.freeze({ ok: true });

export interface IpvsClientOptions extends OpenOptions {
  /**
   * Times a dump flagged NLM_F_DUMP_INTR is read again before the read fails with
   * NetlinkDumpInterruptedError; default 3.
   */
  dumpRetries?: number;
  /** Receive buffer to ask for; default 4 MiB (FORCE when root). */
  receiveBuffer?: number;
  /** Send buffer to ask for; default 4 MiB. */
  sendBuffer?: number;
}

const DEFAULT_BUFFER = 4 << 20;
const DEFAULT_DUMP_RETRIES = 3;

/** What identifies a service in the kernel's table (its lookup key). */
function serviceKey(s: IpvsServiceId): string {
  return s.fwmark
    ? `${s.family}/fwm/${s.fwmark}`
    : `${s.family}/${s.protocol}/${s.address}/${s.port}`;
}

/** What identifies a destination within its service. */
function destinationKey(d: IpvsDestination): string {
  return `${d.family}/${d.address}/${d.port}`;
}

/**
 * Keeps the first entry of each key. The kernel's IPVS dumps resume by position
 * between datagrams, so a table written during a dump can repeat an entry; Linux
 * 6.1's IPVS does not set NLM_F_DUMP_INTR for this, so removing repeats is the only
 * guard against them (a skipped entry is not detectable: the next resync sees it).
 */
export function uniqueBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const t of items) {
    const k = key(t);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(t);
  }
  return out;
}

const noAttrs = (): void => undefined;

const OP_CMD: Readonly<Record<IpvsOp['op'], number>> = {
  addService: C.IPVS_CMD_NEW_SERVICE,
  updateService: C.IPVS_CMD_SET_SERVICE,
  deleteService: C.IPVS_CMD_DEL_SERVICE,
  addDestination: C.IPVS_CMD_NEW_DEST,
  updateDestination: C.IPVS_CMD_SET_DEST,
  deleteDestination: C.IPVS_CMD_DEL_DEST,
};

function writeOp(w: AttrWriter, op: IpvsOp): void {
  switch (op.op) {
    case 'addService':
    case 'updateService':
      writeServiceNest(w, op.service, true);
      return;
    case 'deleteService':
      writeServiceNest(w, op.service, false);
      return;
    case 'addDestination':
    case 'updateDestination': {
      writeServiceNest(w, op.service, false);
      const at = w.begin(C.IPVS_CMD_ATTR_DEST);
      writeDestination(w, op.destination);
      w.end(at);
      return;
    }
    case 'deleteDestination': {
      writeServiceNest(w, op.service, false);
      const at = w.begin(C.IPVS_CMD_ATTR_DEST);
      writeDestinationId(w, op.destination, op.service.family);
      w.end(at);
      return;
    }
  }
}

const counter = new AttrWriter(null, 0);

/**
 * An operation as a request that is its own payload writer: one object per op, since
 * batches carry 100k of them. Counting the length also validates the op (addresses,
 * name lengths), so a bad op fails where it is built.
 */
class OpRequest implements Request, PayloadWriter {
  readonly length: number;

  constructor(
    readonly type: number,
    private readonly op: IpvsOp,
  ) {
    counter.reset(null, GENL_HDRLEN);
    writeOp(counter, op);
    this.length = counter.off;
  }

  get payload(): PayloadWriter {
    return this;
  }

  write(buf: Buffer, off: number): void {
    buf.writeUInt8(OP_CMD[this.op.op], off);
    buf.writeUInt8(C.IPVS_GENL_VERSION, off + 1);
    buf.writeUInt16LE(0, off + 2);
    writeOp(new AttrWriter(buf, off + GENL_HDRLEN), this.op);
  }

  describe(): string {
    const op = this.op;
    const name = C.IPVS_CMD_NAMES[OP_CMD[op.op]] ?? op.op;
    const svc = describeService(op.service);
    if (op.op === 'addService' || op.op === 'updateService' || op.op === 'deleteService') {
      return `${name} ${svc}`;
    }
    const d = op.destination;
    return `${name} ${svc} -> ${hostPort(d.address, d.port)}`;
  }
}

function daemonNest(w: AttrWriter, d: Partial<IpvsDaemon> & { state: number }): void {
  const at = w.begin(C.IPVS_CMD_ATTR_DAEMON);
  writeDaemon(w, d);
  w.end(at);
}

export class IpvsClient {
  /** Extra sockets for parallel destination dumps (one dump per socket at a time). */
  private readonly pool: IpvsClient[] = [];

  private readonly dumpRetries: number;

  private constructor(
    readonly connection: NetlinkConnection,
    readonly familyId: number,
    private readonly openOptions?: IpvsClientOptions,
  ) {
    this.dumpRetries = openOptions?.dumpRetries ?? DEFAULT_DUMP_RETRIES;
  }

  /** Opens a generic netlink socket and resolves the "IPVS" family (ENOENT if absent). */
  static async open(options: IpvsClientOptions = {}): Promise<IpvsClient> {
    const conn = openConnection(NETLINK_GENERIC, {
      ...options,
      receiveBuffer: options.receiveBuffer ?? DEFAULT_BUFFER,
      sendBuffer: options.sendBuffer ?? DEFAULT_BUFFER,
    });
    try {
      const fam = await resolveFamily(conn, C.IPVS_GENL_NAME);
      return new IpvsClient(conn, fam.id, options);
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /** Wraps an existing connection whose family id is known (tests with a fake socket). */
  static fromConnection(
    conn: NetlinkConnection,
    familyId: number,
    options: Pick<IpvsClientOptions, 'dumpRetries'> = {},
  ): IpvsClient {
    return new IpvsClient(conn, familyId, options);
  }

  close(): void {
    for (const c of this.pool.splice(0)) c.close();
    this.connection.close();
  }

  /**
   * Every service with its destinations: one service dump, then one destination dump
   * per service, spread over `parallel` sockets (the kernel runs one dump per socket).
   */
  async dumpAll(
    parallel = 1,
    options: DumpOptions = {},
  ): Promise<Array<{ service: IpvsService; destinations: IpvsDestination[] }>> {
    const services = await this.getServices(options);
    if (this.openOptions) {
      while (this.pool.length < parallel - 1)
        this.pool.push(await IpvsClient.open(this.openOptions));
    }
    const workers: IpvsClient[] = [this, ...this.pool.slice(0, Math.max(0, parallel - 1))];
    const out: Array<{ service: IpvsService; destinations: IpvsDestination[] }> = [];
    let next = 0;
    await Promise.all(
      workers.map(async (w) => {
        for (let i = next++; i < services.length; i = next++) {
          const service = services[i];
          if (service)
            out[i] = { service, destinations: await w.getDestinations(service, options) };
        }
      }),
    );
    return out;
  }

  private req(cmd: number, encode: (w: AttrWriter) => void, describe?: () => string): Request {
    const name = C.IPVS_CMD_NAMES[cmd] ?? `IPVS_CMD ${cmd}`;
    const d = describe ? () => `${name} ${describe()}` : () => name;
    return genlWriterRequest(this.familyId, cmd, C.IPVS_GENL_VERSION, encode, d);
  }

  private attrsOf(m: NetlinkMessage): ReturnType<typeof decodeGenl>['attrs'] {
    return decodeGenl(m).attrs;
  }

  private ofFamily(ms: NetlinkMessage[]): NetlinkMessage[] {
    return ms.filter((m) => m.type === this.familyId);
  }

  /**
   * A dump read again (up to dumpRetries times) while the kernel flags it inconsistent
   * (NLM_F_DUMP_INTR); after that the NetlinkDumpInterruptedError goes to the caller.
   */
  private async consistentDump(req: Request): Promise<NetlinkMessage[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.connection.dump(req);
      } catch (e) {
        if (!(e instanceof NetlinkDumpInterruptedError) || attempt >= this.dumpRetries) throw e;
      }
    }
  }

  /** All services; `stats: false` leaves the counters out (cheaper for a resync). */
  async getServices(options: DumpOptions = {}): Promise<IpvsService[]> {
    const ms = await this.consistentDump(this.req(C.IPVS_CMD_GET_SERVICE, noAttrs));
    const out: IpvsService[] = [];
    for (const m of this.ofFamily(ms)) {
      const svc = genlNested(m, C.IPVS_CMD_ATTR_SERVICE);
      if (svc) out.push(decodeService(svc, options.stats ?? true));
    }
    return uniqueBy(out, serviceKey);
  }

  /** One service, or undefined when the kernel has none such (ESRCH). */
  async getService(id: IpvsServiceId): Promise<IpvsService | undefined> {
    let ms: NetlinkMessage[];
    try {
      ms = await this.connection.request(
        this.req(
          C.IPVS_CMD_GET_SERVICE,
          (w) => writeServiceNest(w, id, false),
          () => describeService(id),
        ),
      );
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 'ESRCH') return undefined;
      throw e;
    }
    for (const m of this.ofFamily(ms)) {
      const svc = genlNested(m, C.IPVS_CMD_ATTR_SERVICE);
      if (svc) return decodeService(svc);
    }
    return undefined;
  }

  async getDestinations(
    service: IpvsServiceId,
    options: DumpOptions = {},
  ): Promise<IpvsDestination[]> {
    const ms = await this.consistentDump(
      this.req(
        C.IPVS_CMD_GET_DEST,
        (w) => writeServiceNest(w, service, false),
        () => describeService(service),
      ),
    );
    const out: IpvsDestination[] = [];
    for (const m of this.ofFamily(ms)) {
      const d = genlNested(m, C.IPVS_CMD_ATTR_DEST);
      if (d) out.push(decodeDestination(d, service.family, options.stats ?? true));
    }
    return uniqueBy(out, destinationKey);
  }

  /** The message an operation sends; exposed so callers can batch their own way. */
  opRequest(op: IpvsOp): Request {
    return new OpRequest(this.familyId, op);
  }

  /** One operation, one round trip; throws NetlinkError (errno name + ext-ack text). */
  async run(op: IpvsOp): Promise<void> {
    await this.connection.request(this.opRequest(op));
  }

  addService(service: IpvsService): Promise<void> {
    return this.run({ op: 'addService', service });
  }
  updateService(service: IpvsService): Promise<void> {
    return this.run({ op: 'updateService', service });
  }
  deleteService(service: IpvsServiceId): Promise<void> {
    return this.run({ op: 'deleteService', service });
  }
  addDestination(service: IpvsServiceId, destination: IpvsDestination): Promise<void> {
    return this.run({ op: 'addDestination', service, destination });
  }
  updateDestination(service: IpvsServiceId, destination: IpvsDestination): Promise<void> {
    return this.run({ op: 'updateDestination', service, destination });
  }
  deleteDestination(service: IpvsServiceId, destination: IpvsDestinationId): Promise<void> {
    return this.run({ op: 'deleteDestination', service, destination });
  }

  /**
   * Many operations, many per datagram (sized to the socket buffers), applied in order.
   * One result per op: a failing op (e.g. EEXIST) does not stop the others. After a
   * receive overrun the affected results are NetlinkRepliesLostError: re-dump.
   */
  async apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]> {
    // An op that cannot be encoded (bad address, name too long) fails alone.
    const results: IpvsOpResult[] = new Array<IpvsOpResult>(ops.length);
    // Requests are built a datagram's worth at a time (a cold sync applies 100 000+, and
    // holding all their requests at once is tens of megabytes); as one batch() does,
    // nothing more is sent once a datagram's replies were lost.
    const chunk = this.connection.maxMessagesPerDatagram();
    let lost: Error | undefined;
    for (let from = 0; from < ops.length; from += chunk) {
      const reqs: Request[] = [];
      const at: number[] = [];
      for (let i = from; i < Math.min(from + chunk, ops.length); i++) {
        try {
          reqs.push(this.opRequest(ops[i] as IpvsOp));
          at.push(i);
        } catch (e) {
          results[i] = { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
        }
      }
      const sentLost = lost;
      const rs: MessageResult[] = sentLost
        ? reqs.map((r) => ({ ok: false, error: notSent(sentLost, r) }))
        : reqs.length > 0
          ? await this.connection.batch(reqs)
          : [];
      rs.forEach((r, k) => {
        if (!r.ok && repliesUnknown(r.error)) lost ??= r.error;
        results[at[k] ?? 0] = r.ok ? APPLIED : { ok: false, error: r.error };
      });
    }
    return results;
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    const ms = this.ofFamily(
      await this.connection.request(this.req(C.IPVS_CMD_GET_CONFIG, noAttrs)),
    );
    const m = ms[0];
    if (!m)
      throw new NetlinkError(
        61 /* ENODATA */,
        0,
        undefined,
        undefined,
        'IPVS_CMD_GET_CONFIG: no reply',
      );
    return decodeTimeouts(this.attrsOf(m));
  }

  /** Sets the given timeouts (seconds); absent ones stay as they are. */
  async setTimeouts(t: Partial<IpvsTimeouts>): Promise<void> {
    await this.connection.request(this.req(C.IPVS_CMD_SET_CONFIG, (w) => writeTimeouts(w, t)));
  }

  async getInfo(): Promise<IpvsInfo> {
    const ms = this.ofFamily(await this.connection.request(this.req(C.IPVS_CMD_GET_INFO, noAttrs)));
    const m = ms[0];
    if (!m)
      throw new NetlinkError(
        61 /* ENODATA */,
        0,
        undefined,
        undefined,
        'IPVS_CMD_GET_INFO: no reply',
      );
    return decodeInfo(this.attrsOf(m));
  }

  async getDaemons(): Promise<IpvsDaemon[]> {
    const ms = await this.connection.dump(this.req(C.IPVS_CMD_GET_DAEMON, noAttrs));
    const out: IpvsDaemon[] = [];
    for (const m of this.ofFamily(ms)) {
      const d = genlNested(m, C.IPVS_CMD_ATTR_DAEMON);
      if (d) out.push(decodeDaemon(d));
    }
    return out;
  }

  async addDaemon(d: IpvsDaemon): Promise<void> {
    await this.connection.request(this.req(C.IPVS_CMD_NEW_DAEMON, (w) => daemonNest(w, d)));
  }

  /** Stops the master (1) or backup (2) sync daemon. */
  async deleteDaemon(state: number): Promise<void> {
    await this.connection.request(this.req(C.IPVS_CMD_DEL_DAEMON, (w) => daemonNest(w, { state })));
  }

  /** Deletes every service in this network namespace. */
  async flush(): Promise<void> {
    await this.connection.request(this.req(C.IPVS_CMD_FLUSH, noAttrs));
  }

  /** Zeroes the counters of one service, or of all when none is given. */
  async zero(service?: IpvsServiceId): Promise<void> {
    await this.connection.request(
      this.req(
        C.IPVS_CMD_ZERO,
        service ? (w) => writeServiceNest(w, service, false) : noAttrs,
        service ? () => describeService(service) : undefined,
      ),
    );
  }
}

// ipset over nfnetlink (NETLINK_NETFILTER, subsystem IPSET) on the same socket addon as
// IPVS: no `ipset` process. Element changes go many per datagram with an answer for each
// failing one, as IPVS batches do; reads are LIST dumps. The `ipset` tool lists what this
// writes: the sets are ordinary kernel sets, created at a revision that tool knows.
import {
  type MessageResult,
  type NetlinkConnection,
  type Request,
  notSent,
  repliesUnknown,
} from '../netlink/connection.js';
import { NetlinkError } from '../netlink/errors.js';
import { type OpenOptions, openConnection } from '../netlink/open.js';
import {
  ElementRequest,
  type IpsetElement,
  type ListPart,
  createRequest,
  decodeListPart,
  decodeTypeReply,
  entryFamily,
  ipsetErrorText,
  listRequest,
  readEntry,
  setRequest,
  typeRequest,
} from './codec.js';
import * as C from './constants.js';
import type { IpsetFamily, IpsetSpec } from './spec.js';

export interface IpsetChange {
  op: 'add' | 'del';
  set: string;
  /** ipset's text form: "10.0.0.1,tcp:80", "10.0.0.1,tcp:80,10.0.0.1". */
  entry: string;
}

/**
 * Elements to add to or delete from one set, given as values: the client reads them one
 * at a time into an element it reuses, so a caller that holds them packed (numbers, say)
 * sends 100 000 of them without an object or a text each.
 */
export interface IpsetElements {
  readonly op: 'add' | 'del';
  readonly set: string;
  readonly count: number;
  /**
   * Fills `e` (every field) with element `i` (0 <= i < count, each once, in order);
   * throws when it cannot, and that element alone fails, without a message sent.
   */
  read(i: number, e: IpsetElement): void;
}

export type IpsetResult = { ok: true } | { ok: false; error: Error };

/** Every success is the same answer: 100 000 of them need not be 100 000 objects. */
const OK: IpsetResult = Object.freeze({ ok: true as const });

/** A set's header as LIST reports it. */
export interface IpsetInfo {
  name: string;
  type: string;
  revision: number;
  family: IpsetFamily | undefined;
  elements: number;
  references: number;
  maxelem: number | undefined;
}

/** The ipset operations the masquerade sync needs; the unit tests substitute a fake. */
export interface IpsetOps {
  /** Creates the set, or leaves an identical one as it is. */
  create(spec: IpsetSpec): Promise<void>;
  /** Adds and deletes elements (-exist semantics); one result per change, in order. */
  change(changes: readonly IpsetChange[]): Promise<IpsetResult[]>;
  /** The same for elements given as values: one result per element, batch after batch. */
  changeElements(batches: readonly IpsetElements[]): Promise<IpsetResult[]>;
  /** The members of these sets; a set that does not exist is left out. */
  members(names: readonly string[]): Promise<Map<string, Set<string>>>;
  /** How many elements each of these sets holds; absent sets are left out. */
  counts(names: readonly string[]): Promise<Map<string, number>>;
  names(): Promise<string[]>;
  flush(name: string): Promise<void>;
  destroy(name: string): Promise<void>;
}

/**
 * Highest revision of each type that the ipset tool of Debian 12 (7.17) knows: a set of a
 * newer revision than the node's tool knows cannot be listed by it. The kernel's own
 * highest revision (IPSET_CMD_TYPE) caps it from the other side.
 */
export const TOOL_REVISIONS: Readonly<Record<string, number>> = {
  'hash:ip,port': 7,
  'hash:ip,port,ip': 6,
};

const ENOENT = 2;
const DEFAULT_BUFFER = 4 << 20;

/** The error of a failed request, with ipset's own codes (errno ≥ 4096) spelled out. */
function ipsetError(e: unknown, req: Request): Error {
  if (!(e instanceof NetlinkError)) return e instanceof Error ? e : new Error(String(e));
  const text = ipsetErrorText(e.errno);
  if (text === undefined) return e;
  const ext = e.extAck === undefined ? text : `${text}; ${e.extAck}`;
  return new NetlinkError(e.errno, e.seq, ext, e.extAckOffset, req.describe?.());
}

function result(r: MessageResult | undefined, req: Request): IpsetResult {
  if (!r) return { ok: false, error: new Error('no result') };
  return r.ok ? OK : { ok: false, error: ipsetError(r.error, req) };
}

export class IpsetClient implements IpsetOps {
  private readonly revisions = new Map<string, number>();

  private constructor(readonly connection: NetlinkConnection) {}

  /** Over a connection that is already open (tests use a fake socket). */
  static fromConnection(connection: NetlinkConnection): IpsetClient {
    return new IpsetClient(connection);
  }

  static open(options: OpenOptions = {}): IpsetClient {
    return new IpsetClient(
      openConnection(C.NETLINK_NETFILTER, {
        receiveBuffer: DEFAULT_BUFFER,
        sendBuffer: DEFAULT_BUFFER,
        ...options,
      }),
    );
  }

  close(): void {
    this.connection.close();
  }

  private async request(req: Request): Promise<ReturnType<NetlinkConnection['request']>> {
    try {
      return await this.connection.request(req);
    } catch (e) {
      throw ipsetError(e, req);
    }
  }

  /** The revision to create a type at: the kernel's highest, capped by TOOL_REVISIONS. */
  async revision(type: string, family: IpsetFamily): Promise<number> {
    const key = `${type}/${family}`;
    const known = this.revisions.get(key);
    if (known !== undefined) return known;
    const [reply] = await this.request(typeRequest(type, family));
    if (!reply) throw new Error(`IPSET_CMD_TYPE ${type}: no reply`);
    const range = decodeTypeReply(reply);
    const cap = TOOL_REVISIONS[type];
    const rev = cap === undefined ? range.max : Math.max(range.min, Math.min(range.max, cap));
    this.revisions.set(key, rev);
    return rev;
  }

  async create(spec: IpsetSpec): Promise<void> {
    await this.request(createRequest(spec, await this.revision(spec.type, spec.family)));
  }

  change(changes: readonly IpsetChange[]): Promise<IpsetResult[]> {
    return this.send(changes.length, (i, r) => {
      const c = changes[i] as IpsetChange;
      readEntry(c.entry, entryFamily(c.entry), r);
      r.target(c.op, c.set);
    });
  }

  changeElements(batches: readonly IpsetElements[]): Promise<IpsetResult[]> {
    let total = 0;
    for (const b of batches) total += b.count;
    // send() asks for the elements in order: a cursor finds each one's batch.
    let at = 0;
    let base = 0;
    return this.send(total, (i, r) => {
      let b = batches[at] as IpsetElements;
      while (i - base >= b.count) {
        base += b.count;
        b = batches[++at] as IpsetElements;
      }
      b.read(i - base, r);
      r.target(b.op, b.set);
    });
  }

  /**
   * Sends `n` element changes, `fill` writing change i (0, 1, ... in order) into a
   * request; a change it throws for fails alone. Requests are filled a datagram's worth
   * at a time into objects reused from one datagram to the next (a cold sync sends
   * 100 000+): each is done with once its datagram's answers are in, error texts
   * included. As one batch() does, nothing more is sent once a datagram's replies were
   * lost.
   */
  private async send(
    n: number,
    fill: (i: number, r: ElementRequest) => void,
  ): Promise<IpsetResult[]> {
    const out = new Array<IpsetResult>(n);
    const chunk = this.connection.maxMessagesPerDatagram();
    const pool: ElementRequest[] = [];
    let lost: Error | undefined;
    for (let from = 0; from < n; from += chunk) {
      const reqs: ElementRequest[] = [];
      const at: number[] = [];
      for (let i = from; i < Math.min(from + chunk, n); i++) {
        const r = (pool[reqs.length] ??= new ElementRequest());
        try {
          fill(i, r);
          reqs.push(r);
          at.push(i);
        } catch (e) {
          out[i] = { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
        }
      }
      const sentLost = lost;
      const rs = sentLost
        ? reqs.map((r): MessageResult => ({ ok: false, error: notSent(sentLost, r) }))
        : reqs.length > 0
          ? await this.connection.batch(reqs)
          : [];
      at.forEach((i, k) => {
        const r = rs[k];
        if (r && !r.ok && repliesUnknown(r.error)) lost ??= r.error;
        out[i] = result(r, reqs[k] as Request);
      });
    }
    return out;
  }

  /** Every LIST reply part of one set (undefined: it does not exist), or of all sets. */
  private async list(name: string | undefined, flags = 0): Promise<ListPart[] | undefined> {
    const req = listRequest(name, flags);
    try {
      const ms = await this.connection.dump(req);
      return ms
        .filter((m) => m.type === ((C.NFNL_SUBSYS_IPSET << 8) | C.IPSET_CMD_LIST))
        .map(decodeListPart);
    } catch (e) {
      if (name !== undefined && e instanceof NetlinkError && e.errno === ENOENT) return undefined;
      throw ipsetError(e, req);
    }
  }

  /** A set's header; undefined when there is no such set. */
  async info(name: string): Promise<IpsetInfo | undefined> {
    const parts = await this.list(name, C.IPSET_FLAG_LIST_HEADER);
    const p = parts?.find((x) => x.name === name && x.type !== undefined);
    if (!p) return undefined;
    return {
      name,
      type: p.type ?? '',
      revision: p.revision ?? 0,
      family: p.family,
      elements: p.elements ?? 0,
      references: p.references ?? 0,
      maxelem: p.maxelem,
    };
  }

  async members(names: readonly string[]): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    for (const n of names) {
      const parts = await this.list(n);
      if (!parts) continue;
      const set = new Set<string>();
      for (const p of parts) if (p.name === n) for (const m of p.members) set.add(m);
      out.set(n, set);
    }
    return out;
  }

  async counts(names: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const n of names) {
      const i = await this.info(n);
      if (i) out.set(n, i.elements);
    }
    return out;
  }

  async names(): Promise<string[]> {
    const parts = (await this.list(undefined, C.IPSET_FLAG_LIST_SETNAME)) ?? [];
    return [...new Set(parts.map((p) => p.name))];
  }

  async flush(name: string): Promise<void> {
    await this.request(setRequest(C.IPSET_CMD_FLUSH, name));
  }

  async destroy(name: string): Promise<void> {
    await this.request(setRequest(C.IPSET_CMD_DESTROY, name));
  }
}

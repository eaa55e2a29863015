// Request/reply over one netlink socket: sequence numbers match replies to requests,
// many requests share a datagram, dumps are reassembled until NLMSG_DONE (and report
// NLM_F_DUMP_INTR), every exchange has a timeout, and a receive failure fails every
// waiting request: ENOBUFS with NetlinkRepliesLostError, a truncated datagram with
// NetlinkTruncatedError, any other errno with NetlinkReceiveError. Exchanges on one
// socket run one at a time: that keeps
// the replies of a batch within the receive buffer and honours the kernel's one dump
// per socket.
import {
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
} from './constants.js';
import {
  NetlinkClosedError,
  NetlinkDecodeError,
  NetlinkDumpInterruptedError,
  NetlinkError,
  NetlinkReceiveError,
  NetlinkRepliesLostError,
  NetlinkSendError,
  NetlinkTimeoutError,
  NetlinkTruncatedError,
} from './errors.js';
import {
  type NetlinkMessage,
  decodeErrorReply,
  decodeMessages,
  messageLength,
  writeMessage,
} from './message.js';
import type { DatagramCallback, DatagramSocket, SystemError } from './socket.js';
import type { PayloadWriter } from './writer.js';

/** A request before the connection numbers it. */
export interface Request {
  type: number;
  /** Extra flags; NLM_F_REQUEST (and NLM_F_ACK as the batch mode says) are added. */
  flags?: number;
  payload: Buffer | PayloadWriter;
  /** Names the request in error messages ('IPVS_CMD_NEW_SERVICE 10.0.0.1:80'). */
  describe?: () => string;
}

export type MessageResult =
  | {
      ok: true;
      replies: NetlinkMessage[];
      /** A dump during which the kernel's table changed (NLM_F_DUMP_INTR). */
      interrupted?: boolean;
    }
  | { ok: false; error: Error };

/**
 * 'last': NLM_F_ACK only on the last message of a datagram. The kernel still sends an
 * error reply for every failing message and goes on with the rest, so the last ACK
 * closes the datagram: everything without an error reply before it succeeded.
 * 'every': NLM_F_ACK on every message (one reply each).
 */
export type AckMode = 'last' | 'every';

export interface ConnectionOptions {
  /**
   * Per exchange (a single request, one batch datagram, or a whole dump), wall-clock;
   * at least 0 (RangeError otherwise).
   */
  timeoutMs?: number;
  ackMode?: AckMode;
  /**
   * Receive-buffer bytes one queued reply may cost (skb truesize of an ACK or capped
   * error, ~770 measured): bounds how many messages go into one datagram.
   */
  replyCost?: number;
  /**
   * Upper bound on messages per datagram regardless of buffer sizes. With a native
   * socket at most MAX_DATAGRAMS_PER_TURN (see DEFAULT_MAX_BATCH_MESSAGES).
   */
  maxBatchMessages?: number;
  /**
   * Wait for replies with the socket's blocking receive instead of the event loop:
   * faster for a command that makes thousands of sequential round trips and has
   * nothing else to do meanwhile (lvsadm). Needs a socket with receive().
   */
  blocking?: boolean;
}

export type SocketFactory = (onDatagram: DatagramCallback) => DatagramSocket;

/**
 * One datagram (or one dump) in flight. Its messages carry consecutive sequence
 * numbers, so a reply finds its request by arithmetic; results and replies are
 * allocated only for messages that get an answer (a 4096-message batch usually gets
 * one ACK), which keeps large batches cheap for the garbage collector.
 */
interface Exchange {
  firstSeq: number;
  count: number;
  reqs: readonly Request[];
  results: Array<MessageResult | undefined>;
  replies: Array<NetlinkMessage[] | undefined>;
  answered: number;
  dump: boolean;
  /** 'every' mode: close when every message has its ACK or error. */
  waitAll: boolean;
  /** A dump reply (data or NLMSG_DONE) carried NLM_F_DUMP_INTR. */
  interrupted: boolean;
  /** Watchdog tick at which the exchange times out. */
  deadline: number;
  done: (err: Error | null) => void;
}

const NO_REPLIES: NetlinkMessage[] = [];
Object.freeze(NO_REPLIES);
const OK: MessageResult = Object.freeze({ ok: true, replies: NO_REPLIES });

/** Timeouts are checked at this granularity. */
const WATCHDOG_MS = 100;

/**
 * Default (and, on a native socket, largest) maxBatchMessages. Equal to the native
 * addon's MAX_DATAGRAMS_PER_TURN (native/netlink.c): a batch of N messages can queue N
 * reply datagrams ('every' mode), and after a receive error the connection holds the
 * next send for one event-loop turn, assuming the addon read the queue to EAGAIN in
 * that turn. That holds only while N <= MAX_DATAGRAMS_PER_TURN; openConnection
 * enforces it and a unit test checks the two constants agree.
 */
export const DEFAULT_MAX_BATCH_MESSAGES = 4096;

const DEFAULTS = {
  timeoutMs: 10_000,
  ackMode: 'last' as AckMode,
  replyCost: 1024,
  maxBatchMessages: DEFAULT_MAX_BATCH_MESSAGES,
  blocking: false,
};

export class NetlinkConnection {
  readonly socket: DatagramSocket;
  private readonly opts: Required<ConnectionOptions>;
  private seq: number;
  private queue: Promise<void> = Promise.resolve();
  private hold: Promise<void> = Promise.resolve();
  private readonly active = new Set<Exchange>();
  private watchdog: NodeJS.Timeout | undefined;
  private tick = 0;
  private refd = false;
  private closed = false;
  /** Count of receive overruns seen (ENOBUFS), for metrics and tests. */
  overruns = 0;
  /** Blocking mode's reader; undefined when replies come through the event loop. */
  private readonly receiveSync:
    ((timeoutMs: number, resume?: boolean) => Buffer | null) | undefined;

  constructor(factory: SocketFactory, options: ConnectionOptions = {}) {
    this.opts = { ...DEFAULTS, ...options };
    const t = this.opts.timeoutMs;
    if (!Number.isFinite(t) || t < 0) {
      throw new RangeError(`netlink: timeoutMs must be a finite number >= 0, not ${t}`);
    }
    this.socket = factory((err, data) => this.onDatagram(err, data));
    this.seq = (Date.now() & 0x7fffffff) >>> 0 || 1;
    this.receiveSync = this.opts.blocking ? this.socket.receive?.bind(this.socket) : undefined;
  }

  get options(): Readonly<Required<ConnectionOptions>> {
    return this.opts;
  }

  /** The first of `n` consecutive sequence numbers (never 0, never wrapping inside). */
  private seqBlock(n: number): number {
    if (this.seq + 1 + n > 0xffffffff) this.seq = 0;
    const first = this.seq + 1;
    this.seq += n;
    return first;
  }

  /** Runs exchanges one after another. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => this.hold).then(fn, fn);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** One request; resolves with its reply messages (none for a plain ACK). */
  async request(req: Request): Promise<NetlinkMessage[]> {
    const [r] = await this.serialize(() => this.exchange([req], 'every', false));
    if (!r) throw new NetlinkDecodeError('no result for request');
    if (!r.ok) throw r.error;
    return r.replies;
  }

  /**
   * A dump (NLM_F_DUMP): every message until NLMSG_DONE, across datagrams. When the
   * kernel flags it inconsistent (NLM_F_DUMP_INTR) the dump is still read to the end,
   * then NetlinkDumpInterruptedError carries its replies; the caller retries or uses them.
   */
  async dump(req: Request): Promise<NetlinkMessage[]> {
    const dumpReq: Request = { ...req, flags: (req.flags ?? 0) | NLM_F_DUMP };
    const [r] = await this.serialize(() => this.exchange([dumpReq], 'none', true));
    if (!r) throw new NetlinkDecodeError('no result for dump');
    if (!r.ok) throw r.error;
    if (r.interrupted) {
      const what = req.describe ? `${req.describe()}: ` : '';
      throw new NetlinkDumpInterruptedError(
        `${what}dump interrupted (NLM_F_DUMP_INTR): the table changed while it was read, ` +
          'entries may be missing or repeated',
        r.replies,
      );
    }
    return r.replies;
  }

  /** Largest datagram the kernel accepts from this socket (sk_sndbuf − 32). */
  maxDatagramBytes(): number {
    return this.socket.sendBufferSize() - 32;
  }

  /** Messages whose worst-case replies fit the receive buffer. */
  maxMessagesPerDatagram(): number {
    const byRcv = Math.floor(this.socket.receiveBufferSize() / this.opts.replyCost);
    return Math.max(1, Math.min(byRcv, this.opts.maxBatchMessages));
  }

  /**
   * Many requests, packed into as few datagrams as the socket buffers allow; one
   * result per request, in order. A failure of one message does not stop the others.
   * After a lost-replies overrun, that datagram's and all later requests fail with
   * NetlinkRepliesLostError (the later ones were not sent).
   */
  async batch(
    reqs: readonly Request[],
    ackMode: AckMode = this.opts.ackMode,
  ): Promise<MessageResult[]> {
    const results: MessageResult[] = [];
    const maxBytes = this.maxDatagramBytes();
    const maxMsgs = this.maxMessagesPerDatagram();
    let i = 0;
    let lost: Error | undefined;
    while (i < reqs.length) {
      let bytes = 0;
      let j = i;
      while (j < reqs.length && j - i < maxMsgs) {
        const r = reqs[j];
        if (!r) break;
        const len = messageLength(r.payload.length);
        if (j > i && bytes + len > maxBytes) break;
        bytes += len;
        j++;
      }
      const chunk = reqs.slice(i, j);
      if (lost) {
        for (const req of chunk) results.push({ ok: false, error: notSent(lost, req) });
      } else {
        const rs = await this.serialize(() => this.exchange(chunk, ackMode, false));
        for (const r of rs) {
          results.push(r);
          if (!r.ok && repliesUnknown(r.error)) lost = r.error;
        }
      }
      i = j;
    }
    return results;
  }

  private exchange(
    reqs: readonly Request[],
    ackMode: AckMode | 'none',
    dump: boolean,
  ): Promise<MessageResult[]> {
    if (this.closed) {
      return Promise.resolve(
        reqs.map(() => ({ ok: false, error: new NetlinkClosedError('netlink socket closed') })),
      );
    }
    const pid = this.socket.portId;
    let total = 0;
    for (const r of reqs) total += messageLength(r.payload.length);
    const datagram = Buffer.alloc(total);
    const count = reqs.length;
    const firstSeq = this.seqBlock(count);
    let off = 0;
    for (let i = 0; i < count; i++) {
      const r = reqs[i] as Request;
      const ack = ackMode === 'every' || (ackMode === 'last' && i === count - 1);
      off = writeMessage(datagram, off, {
        type: r.type,
        flags: (r.flags ?? 0) | NLM_F_REQUEST | (ack ? NLM_F_ACK : 0),
        seq: firstSeq + i,
        pid,
        payload: r.payload,
      });
    }
    return new Promise<MessageResult[]>((resolve) => {
      let finished = false;
      const finish = (err: Error | null): void => {
        if (finished) return;
        finished = true;
        this.active.delete(ex);
        const out: MessageResult[] = new Array<MessageResult>(count);
        for (let i = 0; i < count; i++) {
          const r = ex.results[i];
          const replies = ex.replies[i];
          out[i] =
            r ??
            (err
              ? { ok: false, error: err }
              : ex.interrupted
                ? { ok: true, replies: replies ?? NO_REPLIES, interrupted: true }
                : replies
                  ? { ok: true, replies }
                  : OK);
        }
        resolve(out);
      };
      const ex: Exchange = {
        firstSeq,
        count,
        reqs,
        results: [],
        replies: [],
        answered: 0,
        dump,
        waitAll: ackMode === 'every',
        interrupted: false,
        deadline: this.tick + Math.ceil(this.opts.timeoutMs / WATCHDOG_MS) + 1,
        done: finish,
      };
      this.active.add(ex);
      const receive = this.receiveSync;
      if (!receive) this.arm();
      try {
        this.socket.send(datagram);
      } catch (e) {
        const se = e as Partial<SystemError>;
        finish(
          new NetlinkSendError(
            `netlink send of ${count} message(s), ${total} bytes: ${se.message ?? String(e)}`,
            se.errno ?? 0,
            se.code ?? 'EIO',
          ),
        );
      }
      if (receive) this.receiveUntil(() => finished, receive, ex);
    });
  }

  /**
   * Blocking mode: reads datagrams until `done()`. Every receive() after the first
   * resumes the same wall-clock wait, so the exchange's timeout does not restart per
   * datagram; the addon reads the clock only when it has to wait, never per datagram.
   */
  private receiveUntil(
    done: () => boolean,
    receive: (timeoutMs: number, resume?: boolean) => Buffer | null,
    ex: Exchange,
  ): void {
    let resume = false;
    while (!done()) {
      let data: Buffer | null;
      try {
        data = receive(this.opts.timeoutMs, resume);
        resume = true;
      } catch (e) {
        this.onDatagram(e as SystemError);
        // After an overrun the kernel drops replies silently until the receive queue
        // has been emptied once (NETLINK_S_CONGESTED): drain it now, as the polling
        // path does before the next turn, or the next request's reply is lost too.
        drain(receive);
        resume = false;
        continue;
      }
      if (data) this.onDatagram(null, data);
      else ex.done(new NetlinkTimeoutError(`netlink: no reply within ${this.opts.timeoutMs} ms`));
    }
  }

  /**
   * One coarse watchdog per connection instead of a timer per exchange: under UML
   * every timer start reads the clock with a real system call, and a dump of 10k
   * services is 10k exchanges. The watchdog also drops the event-loop reference
   * once the connection has been idle for a tick.
   */
  private arm(): void {
    if (!this.refd) {
      this.socket.setRef(true);
      this.refd = true;
    }
    if (this.watchdog) return;
    this.watchdog = setInterval(() => this.onTick(), WATCHDOG_MS);
    this.watchdog.unref();
  }

  private onTick(): void {
    this.tick++;
    if (this.active.size === 0) {
      if (this.watchdog) clearInterval(this.watchdog);
      this.watchdog = undefined;
      if (this.refd) this.socket.setRef(false);
      this.refd = false;
      return;
    }
    for (const ex of [...this.active]) {
      if (ex.deadline <= this.tick) {
        ex.done(new NetlinkTimeoutError(`netlink: no reply within ${this.opts.timeoutMs} ms`));
      }
    }
  }

  /** Fails every waiting exchange with `err`. */
  private failAll(err: Error): void {
    for (const ex of [...this.active]) ex.done(err);
  }

  private exchangeOf(seq: number): Exchange | undefined {
    for (const ex of this.active) {
      if ((seq - ex.firstSeq) >>> 0 < ex.count) return ex;
    }
    return undefined;
  }

  private onDatagram(err: SystemError | null, data?: Buffer): void {
    if (err) {
      // Until the receive queue is empty again the kernel drops further replies
      // silently (NETLINK_S_CONGESTED), so nothing new is sent before the native
      // side has read what is queued; it reads to EAGAIN before the check phase
      // (DEFAULT_MAX_BATCH_MESSAGES says why one turn is enough).
      this.hold = new Promise((resolve) => setImmediate(resolve));
      this.failAll(receiveFailure(err));
      if (err.code === 'ENOBUFS') this.overruns++;
      return;
    }
    if (!data) return;
    let messages: NetlinkMessage[];
    try {
      messages = decodeMessages(data);
    } catch (e) {
      this.failAll(e instanceof Error ? e : new NetlinkDecodeError(String(e)));
      return;
    }
    for (const m of messages) {
      try {
        this.onMessage(m);
      } catch (e) {
        const ex = this.exchangeOf(m.seq);
        const de = e instanceof Error ? e : new NetlinkDecodeError(String(e));
        if (ex) ex.done(de);
      }
    }
  }

  private onMessage(m: NetlinkMessage): void {
    if (m.pid !== this.socket.portId) return;
    const ex = this.exchangeOf(m.seq);
    if (!ex) return; // a late reply to a request that timed out or was failed
    if (m.type === NLMSG_NOOP || m.type === NLMSG_OVERRUN) return;
    const i = (m.seq - ex.firstSeq) >>> 0;
    if (ex.dump && m.flags & NLM_F_DUMP_INTR) ex.interrupted = true;
    const describe = (): string | undefined => ex.reqs[i]?.describe?.();
    if (m.type === NLMSG_ERROR) {
      const e = decodeErrorReply(m);
      if (ex.results[i] === undefined) ex.answered++;
      ex.results[i] =
        e.errno === 0
          ? { ok: true, replies: ex.replies[i] ?? NO_REPLIES }
          : {
              ok: false,
              error: new NetlinkError(e.errno, m.seq, e.extAck, e.extAckOffset, describe()),
            };
      const closing = ex.dump || i === ex.count - 1;
      if (ex.waitAll ? ex.answered === ex.count : closing) ex.done(null);
      return;
    }
    if (m.type === NLMSG_DONE) {
      if (m.payload.length >= 4) {
        const code = m.payload.readInt32LE(0);
        if (code < 0) {
          ex.results[i] = {
            ok: false,
            error: new NetlinkError(-code, m.seq, undefined, undefined, describe()),
          };
        }
      }
      ex.done(null);
      return;
    }
    // Data never closes an exchange: single requests carry NLM_F_ACK, batches close on
    // the last message's ACK, dumps on NLMSG_DONE.
    const list = ex.replies[i];
    if (list) list.push(m);
    else ex.replies[i] = [m];
  }

  /** Fails whatever waits and closes the socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new NetlinkClosedError('netlink socket closed'));
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.socket.close();
  }
}

/** The typed error for a failed receive: each cause its own class and code. */
export function receiveFailure(err: SystemError): Error {
  if (err.code === 'ENOBUFS') {
    return new NetlinkRepliesLostError(
      'netlink receive failed (ENOBUFS): the kernel dropped replies; the outcome of ' +
        'pending requests is unknown, re-dump to learn the state',
    );
  }
  if (err.truncated) {
    return new NetlinkTruncatedError(
      'netlink receive: a datagram was larger than the receive buffer and was truncated; ' +
        'the outcome of pending requests is unknown, re-dump to learn the state',
    );
  }
  return new NetlinkReceiveError(`netlink receive failed: ${err.message}`, err.errno, err.code);
}

/**
 * A failure after which the replies of the datagram in flight cannot be trusted; a
 * caller that batches in several calls stops there too (see notSent).
 */
export function repliesUnknown(e: Error): boolean {
  return (
    e instanceof NetlinkRepliesLostError ||
    e instanceof NetlinkTruncatedError ||
    e instanceof NetlinkReceiveError
  );
}

/** Reads and drops whatever is queued (bounded: a queue holds at most rcvbuf bytes). */
function drain(receive: (timeoutMs: number) => Buffer | null): void {
  for (let i = 0; i < 1_000_000; i++) {
    try {
      if (receive(0) === null) return;
    } catch {
      return;
    }
  }
}

/** The error of a request left unsent after `lost` (a repliesUnknown failure). */
export function notSent(lost: Error, req: Request): Error {
  const what = req.describe ? `${req.describe()}: ` : '';
  return new NetlinkRepliesLostError(
    `${what}not sent, an earlier datagram lost its replies (${lost.message})`,
  );
}

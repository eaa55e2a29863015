// Typed face of the native addon (native/netlink.c): a netlink socket of any protocol.
// The addon is found relative to the package root, so this works from the source tree
// (ts run), from dist/ and from the bundled programs alike.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { NetlinkAddonError } from './errors.js';

/** An Error from a system call, with the Linux errno (positive) and its name. */
export interface SystemError extends Error {
  errno: number;
  code: string;
  syscall: string;
  /** Set on a receive error for a datagram larger than the receive buffer (EMSGSIZE). */
  truncated?: boolean;
}

export type DatagramCallback = (err: SystemError | null, data?: Buffer) => void;

interface NativeSocket {
  bind(groups: number): number;
  setsockopt(level: number, name: number, value: number): void;
  getsockopt(level: number, name: number): number;
  send(data: Buffer): number;
  receive(timeoutMs: number, resume: boolean): Buffer | null;
  start(): void;
  ref(on: boolean): void;
  close(): void;
  fd(): number;
}

interface NativeModule {
  NetlinkSocket: new (protocol: number, callback: DatagramCallback) => NativeSocket;
  RECV_BUF_SIZE: number;
  MAX_DATAGRAMS_PER_TURN: number;
  allocations?: () => NativeAllocations;
  /** glibc's M_ARENA_MAX (native/memory.c); false where the C library has no such limit. */
  mallocArenaMax: (count: number) => boolean;
}

/** Native memory held by sockets: structs (freed at GC) and receive buffers (at close). */
export interface NativeAllocations {
  sockets: number;
  buffers: number;
}

const loaded = new Map<string, NativeModule>();

/** Where the addon is built: build/Release/netlink.node under the package root. */
export function defaultAddonPath(): string {
  return join(packageRoot(), 'build', 'Release', 'netlink.node');
}

/**
 * Loads the addon once per path; `path` (default: defaultAddonPath()) is the seam
 * tests use to make loading fail. Throws NetlinkAddonError.
 */
export function loadNative(path?: string): NativeModule {
  const at = path ?? defaultAddonPath();
  let mod = loaded.get(at);
  if (!mod) {
    try {
      mod = createRequire(import.meta.url)(at) as NativeModule;
    } catch (e) {
      // require() appends a multi-line "Require stack": keep the first line, the cause.
      const text = e instanceof Error ? e.message : String(e);
      throw new NetlinkAddonError(at, text.split('\n')[0] ?? text);
    }
    loaded.set(at, mod);
  }
  return mod;
}

export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SOL_NETLINK = 270;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

/** What the transport needs from a socket; the unit tests substitute a fake. */
export interface DatagramSocket {
  readonly portId: number;
  send(data: Buffer): void;
  /**
   * Blocking receive of one datagram, outside the event loop (sockets made without
   * polling); null when none arrived within the wait. The wait is wall-clock: timeoutMs
   * from the first time it had to wait; `resume` continues the previous call's wait
   * (several datagrams of one exchange) instead of starting a new one. Throws a
   * SystemError, or a RangeError for a negative timeout.
   */
  receive?(timeoutMs: number, resume?: boolean): Buffer | null;
  /** Actual buffer sizes as the kernel accounts them (already doubled by Linux). */
  sendBufferSize(): number;
  receiveBufferSize(): number;
  /** Whether a started socket keeps the process alive (only while requests wait). */
  setRef(on: boolean): void;
  close(): void;
}

/**
 * A bound netlink socket. Every datagram received, and every receive error (ENOBUFS
 * when the kernel dropped replies), goes to `onDatagram`.
 */
export class NetlinkSocket implements DatagramSocket {
  readonly portId: number;
  private readonly native: NativeSocket;
  private closed = false;
  /**
   * The buffer sizes as last read. Linux changes a netlink socket's only when told (no
   * autotuning, as TCP has), so they are read once after each setsockopt, not for every
   * batch: that was two system calls per batch, about 25 µs each in User-Mode Linux.
   */
  private sizes: { send?: number; receive?: number } = {};

  /**
   * `poll` false: nothing is read by the event loop; the owner calls receive().
   * `addonPath`: load the addon from there instead of build/Release (tests).
   */
  constructor(
    protocol: number,
    onDatagram: DatagramCallback,
    groups = 0,
    poll = true,
    addonPath?: string,
  ) {
    const mod = loadNative(addonPath);
    this.native = new mod.NetlinkSocket(protocol, onDatagram);
    try {
      this.portId = this.native.bind(groups);
      if (poll) this.native.start();
      this.native.ref(false);
    } catch (err) {
      this.native.close();
      throw err;
    }
  }

  get fd(): number {
    return this.native.fd();
  }

  send(data: Buffer): void {
    this.native.send(data);
  }

  receive(timeoutMs: number, resume = false): Buffer | null {
    return this.native.receive(timeoutMs, resume);
  }

  setsockopt(level: number, name: number, value: number): void {
    this.sizes = {};
    this.native.setsockopt(level, name, value);
  }

  getsockopt(level: number, name: number): number {
    return this.native.getsockopt(level, name);
  }

  /**
   * Sets SO_RCVBUF/SO_SNDBUF, first trying the FORCE variants (root: past
   * rmem_max/wmem_max) and falling back to the capped ones.
   */
  setBufferSizes(receive: number | undefined, send: number | undefined): void {
    if (receive !== undefined) this.setBuf(SO_RCVBUFFORCE, SO_RCVBUF, receive);
    if (send !== undefined) this.setBuf(SO_SNDBUFFORCE, SO_SNDBUF, send);
  }

  private setBuf(force: number, plain: number, size: number): void {
    this.sizes = {};
    try {
      this.native.setsockopt(SOL_SOCKET, force, size);
    } catch {
      this.native.setsockopt(SOL_SOCKET, plain, size);
    }
  }

  sendBufferSize(): number {
    return (this.sizes.send ??= this.native.getsockopt(SOL_SOCKET, SO_SNDBUF));
  }

  receiveBufferSize(): number {
    return (this.sizes.receive ??= this.native.getsockopt(SOL_SOCKET, SO_RCVBUF));
  }

  setRef(on: boolean): void {
    if (!this.closed) this.native.ref(on);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close();
  }
}

/** The size of the native receive buffer: no datagram larger than this is read whole. */
export function nativeReceiveBufferSize(): number {
  return loadNative().RECV_BUF_SIZE;
}

/**
 * Datagrams the polling path reads per event-loop turn (MAX_DATAGRAMS_PER_TURN in
 * native/netlink.c). openConnection refuses a maxBatchMessages above it: see
 * DEFAULT_MAX_BATCH_MESSAGES in connection.ts.
 */
export function nativeDatagramsPerTurn(addonPath?: string): number {
  return loadNative(addonPath).MAX_DATAGRAMS_PER_TURN;
}

/** What the addon holds right now, for leak tests. */
export function nativeAllocations(): NativeAllocations {
  return loadNative().allocations?.() ?? { sockets: 0, buffers: 0 };
}

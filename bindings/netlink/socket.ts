// Typed face of the native addon (native/netlink.c): a netlink socket of any protocol.
// The addon is found relative to the package root, so this works from the source tree
// (ts run) and from dist/ alike.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An Error from a system call, with the Linux errno (positive) and its name. */
export interface SystemError extends Error {
  errno: number;
  code: string;
  syscall: string;
}

export type DatagramCallback = (err: SystemError | null, data?: Buffer) => void;

interface NativeSocket {
  bind(groups: number): number;
  setsockopt(level: number, name: number, value: number): void;
  getsockopt(level: number, name: number): number;
  send(data: Buffer): number;
  receive(timeoutMs: number): Buffer | null;
  start(): void;
  ref(on: boolean): void;
  close(): void;
  fd(): number;
}

interface NativeModule {
  NetlinkSocket: new (protocol: number, callback: DatagramCallback) => NativeSocket;
  RECV_BUF_SIZE: number;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('netlink: package root (binding.gyp) not found');
    dir = up;
  }
}

let loaded: NativeModule | undefined;

/** Loads build/Release/netlink.node once. */
export function loadNative(): NativeModule {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    loaded = require(join(packageRoot(), 'build', 'Release', 'netlink.node')) as NativeModule;
  }
  return loaded;
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
   * polling); null when none arrived within timeoutMs. Throws a SystemError.
   */
  receive?(timeoutMs: number): Buffer | null;
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

  /** `poll` false: nothing is read by the event loop; the owner calls receive(). */
  constructor(protocol: number, onDatagram: DatagramCallback, groups = 0, poll = true) {
    const mod = loadNative();
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

  receive(timeoutMs: number): Buffer | null {
    return this.native.receive(timeoutMs);
  }

  setsockopt(level: number, name: number, value: number): void {
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
    try {
      this.native.setsockopt(SOL_SOCKET, force, size);
    } catch {
      this.native.setsockopt(SOL_SOCKET, plain, size);
    }
  }

  sendBufferSize(): number {
    return this.native.getsockopt(SOL_SOCKET, SO_SNDBUF);
  }

  receiveBufferSize(): number {
    return this.native.getsockopt(SOL_SOCKET, SO_RCVBUF);
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

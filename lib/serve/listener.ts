// An HTTP server that keeps trying to listen: a port in use, an address not (yet) on the
// node or any other bind failure is logged once, counted, and retried with backoff, and
// never stops anything else (the sync loop runs on).
import { createServer, type RequestListener, type Server } from 'node:http';

export interface BindAddress {
  /** undefined: every address (both families where the node has IPv6). */
  host: string | undefined;
  port: number;
}

/** "127.0.0.1:10249" or "[::1]:10249" (the config schema has checked the form). */
export function parseBindAddress(text: string): BindAddress | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2], port };
}

export interface ListenerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface ListenerOptions {
  /** For the log: "metrics", "healthz", "health-check-node-port". */
  name: string;
  address: BindAddress;
  handler: RequestListener;
  log: ListenerLog;
  /** Called on every failed attempt (the metric). */
  onBindFailure: () => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}

export class RetryingListener {
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failures = 0;
  private lastLogged: string | undefined;
  private up = false;

  constructor(private readonly opts: ListenerOptions) {}

  get listening(): boolean {
    return this.up;
  }

  /** The port it listens on (the one given, or the kernel's pick for port 0). */
  get boundPort(): number | undefined {
    const a = this.up ? this.server?.address() : undefined;
    return a && typeof a === 'object' ? a.port : undefined;
  }

  get where(): string {
    const { host, port } = this.opts.address;
    return host === undefined
      ? `:${port}`
      : host.includes(':')
        ? `[${host}]:${port}`
        : `${host}:${port}`;
  }

  start(): void {
    if (this.closed || this.server) return;
    const server = createServer(this.opts.handler);
    this.server = server;
    server.once('error', (e) => this.failed(server, e));
    server.once('listening', () => {
      this.up = true;
      server.on('error', (e) =>
        this.opts.log.warn({ server: this.opts.name, error: errorCode(e) }, 'server error'),
      );
      this.opts.log.info({ server: this.opts.name, address: this.where }, 'listening');
      this.failures = 0;
      this.lastLogged = undefined;
    });
    const { host, port } = this.opts.address;
    try {
      server.listen({ port, ...(host !== undefined ? { host } : {}) });
    } catch (e) {
      // A malformed host or port throws here instead of emitting 'error'.
      this.failed(server, e);
    }
  }

  private failed(server: Server, e: unknown): void {
    if (this.server !== server) return;
    this.server = undefined;
    server.close();
    this.failures++;
    this.opts.onBindFailure();
    const code = errorCode(e);
    const delay = Math.min(
      (this.opts.initialBackoffMs ?? 1000) * 2 ** (this.failures - 1),
      this.opts.maxBackoffMs ?? 30_000,
    );
    // Once per kind of failure; the retries that fail the same way go to debug.
    const fields = { server: this.opts.name, address: this.where, error: code, retryInMs: delay };
    if (code !== this.lastLogged) this.opts.log.warn(fields, `cannot listen on ${this.where}`);
    else this.opts.log.debug(fields, `cannot listen on ${this.where}`);
    this.lastLogged = code;
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, delay);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const server = this.server;
    this.server = undefined;
    this.up = false;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

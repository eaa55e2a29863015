// Reload on change. The file may be a Kubernetes ConfigMap volume entry: "config.yaml" is a
// symlink into "..data", and an update replaces "..data" atomically (rename of a new
// symlink). Watching the file itself would keep watching the old inode, so the directory is
// watched and the content hash decides whether anything changed. A slow poll backs up
// fs.watch, which can miss events on some filesystems.
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfig, type ConfigError } from './load.js';
import type { KubeIpvsConfig } from './schema.js';

/** Anything with inc(): a prom-client Counter fits. */
export interface Incrementable {
  inc(): void;
}

export interface ConfigWatchOptions {
  /** A new, valid configuration was loaded; it is now `current`. */
  onChange: (config: KubeIpvsConfig) => void;
  /** A changed file was invalid or unreadable; `current` is unchanged. */
  onError?: (errors: ConfigError[]) => void;
  /** Incremented once per rejected reload (per distinct bad content). */
  failedReloads?: Incrementable;
  /** Quiet time after the last event before reading. Default 100 ms. */
  debounceMs?: number;
  /** Re-read interval independent of events; 0 disables. Default 60 000 ms. */
  pollIntervalMs?: number;
}

export interface ConfigWatcher {
  readonly current: KubeIpvsConfig;
  /** Rejected reloads since the watch started. */
  readonly failedReloads: number;
  /** Re-read now (also what events and the poll call). Resolves when done. */
  check(): Promise<void>;
  close(): void;
}

/**
 * Watch `path`, starting from an already loaded `initial` config and its content hash
 * (from loadConfig, so start-up can refuse an invalid file before any watch exists).
 */
export function watchConfig(
  path: string,
  initial: { config: KubeIpvsConfig; hash: string },
  options: ConfigWatchOptions,
): ConfigWatcher {
  let current = initial.config;
  let lastHash = initial.hash;
  let failed = 0;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const debounceMs = options.debounceMs ?? 100;

  const readOnce = async (): Promise<void> => {
    const result = await loadConfig(path);
    if (closed || result.hash === lastHash) return;
    // An unreadable file has no hash; a later read of the same bad state still counts once.
    lastHash = result.hash;
    if (result.ok) {
      current = result.config;
      options.onChange(result.config);
    } else {
      failed += 1;
      options.failedReloads?.inc();
      options.onError?.(result.errors);
    }
  };

  const check = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await readOnce();
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void check();
    }, debounceMs);
    timer.unref?.();
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, schedule);
    // The directory may vanish (volume unmounted); the poll keeps going.
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  const pollMs = options.pollIntervalMs ?? 60_000;
  const poll = pollMs > 0 ? setInterval(() => void check(), pollMs) : undefined;
  poll?.unref?.();

  return {
    get current() {
      return current;
    },
    get failedReloads() {
      return failed;
    },
    check,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      watcher?.close();
    },
  };
}

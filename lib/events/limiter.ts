// A token bucket per key, as client-go's legacy event spam filter keeps one per object:
// `burst` events at once, then one more every `refillMs`. Pure: the clock is passed in.
// The number of keys is bounded (least recently used dropped first), like client-go's LRU.

export interface LimiterOptions {
  /** Bucket size; client-go's default (defaultSpamBurst) is 25. */
  burst: number;
  /** One token comes back every refillMs; client-go's default (defaultSpamQPS 1/300) is 5 min. */
  refillMs: number;
  /** Keys remembered at most (client-go: maxLruCacheEntries, 4096). */
  maxKeys: number;
}

export const DEFAULT_LIMITER: LimiterOptions = { burst: 25, refillMs: 300_000, maxKeys: 4096 };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, ms. */
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly opts: LimiterOptions = DEFAULT_LIMITER) {}

  /** Takes a token from `key`'s bucket at time `now`; false when it is empty. */
  take(key: string, now: number): boolean {
    const b = this.buckets.get(key) ?? { tokens: this.opts.burst, at: now };
    // Map order is the LRU order: re-insert on every use.
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (now > b.at) {
      b.tokens = Math.min(this.opts.burst, b.tokens + (now - b.at) / this.opts.refillMs);
      b.at = now;
    }
    while (this.buckets.size > this.opts.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}

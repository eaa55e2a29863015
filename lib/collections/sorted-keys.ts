// A small sorted set of string keys, kept as the key itself while it holds one. The store
// groups each Service's EndpointSlices this way and the desired table each virtual
// server's claiming Services: nearly every group holds one key, and a Set or Map per
// group (10 000 of each at bench scale) was megabytes of the daemon's heap.

/** One key is the key itself; more are an array in code unit order, without repeats. */
export type SortedKeys = string | readonly string[];

/** The keys in order. */
export function keysOf(keys: SortedKeys | undefined): readonly string[] {
  if (keys === undefined) return [];
  return typeof keys === 'string' ? [keys] : keys;
}

/** The least key (code unit order), or undefined when there is none. */
export function firstKey(keys: SortedKeys | undefined): string | undefined {
  return typeof keys === 'string' ? keys : keys?.[0];
}

/** The keys with `key` added; the same value when it is there already. */
export function withKey(keys: SortedKeys | undefined, key: string): SortedKeys {
  const list = keysOf(keys);
  const at = list.findIndex((k) => k >= key);
  if (list[at] === key) return keys as SortedKeys;
  if (list.length === 0) return key;
  const out = [...list];
  out.splice(at < 0 ? out.length : at, 0, key);
  return out;
}

/** The keys without `key`; undefined once none is left. */
export function withoutKey(keys: SortedKeys | undefined, key: string): SortedKeys | undefined {
  const list = keysOf(keys);
  if (!list.includes(key)) return keys;
  const rest = list.filter((k) => k !== key);
  if (rest.length === 0) return undefined;
  return rest.length === 1 ? (rest[0] as string) : rest;
}

/** Adds `key` to the group at `at` of a map of groups. */
export function addToGroup<K>(groups: Map<K, SortedKeys>, at: K, key: string): void {
  groups.set(at, withKey(groups.get(at), key));
}

/** Removes `key` from the group at `at`; an empty group leaves the map. */
export function removeFromGroup<K>(groups: Map<K, SortedKeys>, at: K, key: string): void {
  const rest = withoutKey(groups.get(at), key);
  if (rest === undefined) groups.delete(at);
  else groups.set(at, rest);
}

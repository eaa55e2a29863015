// The C library's allocator, through the native addon (native/memory.c).
import { loadNative } from './netlink/socket.js';

/**
 * Caps how many malloc arenas glibc creates from now on (M_ARENA_MAX). False when the C
 * library has no such limit (musl). Throws NetlinkAddonError when the addon cannot load.
 */
export function setMallocArenaMax(count: number): boolean {
  return loadNative().mallocArenaMax(count);
}

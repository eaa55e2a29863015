// glibc's M_ARENA_MAX for kube-ipvs (lib/cli/memory.ts). glibc gives a thread that allocates
// an arena of its own, up to eight per core, and memory freed in one arena serves only the
// threads attached to it; V8's helper threads so keep megabytes each that the main thread
// never reuses. A limit set now applies to arenas created from now on.
#include <stdbool.h>
#include <stdlib.h> // defines __GLIBC__ on glibc
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "memory.h"

napi_value MallocArenaMax(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, NULL, "mallocArenaMax: expected a count of at least 1");
    return NULL;
  }
  bool taken = false;
#ifdef __GLIBC__
  taken = mallopt(M_ARENA_MAX, n) == 1;
#endif
  if (napi_get_boolean(env, taken, &result) != napi_ok) return NULL;
  return result;
}

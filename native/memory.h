// The process's malloc policy (native/memory.c), exported by the addon beside the socket.
#ifndef KUBE_IPVS_MEMORY_H
#define KUBE_IPVS_MEMORY_H
#include <node_api.h>

// mallocArenaMax(n) -> boolean: whether the C library took the limit (glibc only).
napi_value MallocArenaMax(napi_env env, napi_callback_info info);

#endif

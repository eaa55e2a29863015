{
  "targets": [
    {
      "target_name": "netlink",
      "sources": ["native/netlink.c", "native/memory.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}

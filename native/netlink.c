// A netlink socket for Node, with no protocol knowledge: open, bind, socket options,
// send one datagram to the kernel, and a uv_poll-driven receive path that hands every
// datagram (or error) to one JS callback. The receive path must survive ENOBUFS and a
// throwing callback, which is why this exists instead of the `netlink` npm package.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>
#include "memory.h"

#define RECV_BUF_SIZE (256 * 1024)
// Bounds one poll callback so a flood of datagrams cannot starve the event loop; the
// poll is level-triggered, so what is left is read on the next turn. Exported as
// MAX_DATAGRAMS_PER_TURN: bindings/netlink/connection.ts caps maxBatchMessages at it
// (DEFAULT_MAX_BATCH_MESSAGES), so the replies of one batch are read in one turn and
// its "queue drained by the next check phase" assumption after an error holds.
#define MAX_DATAGRAMS_PER_TURN 4096
// The JS wrapper holds its callback in this property, so the callback (which usually
// captures the wrapper's owner) is reachable only through the wrapper: a dropped,
// unclosed socket is then garbage like any other cycle, and its finalizer closes the fd.
#define CALLBACK_KEY "__netlinkCallback"

// Live native allocations, for the leak test (allocations()).
static int64_t live_socks = 0;
static int64_t live_bufs = 0;

typedef struct {
  napi_env env;
  napi_ref callback;
  napi_ref resource;
  napi_async_context async_ctx;
  uv_poll_t poll;
  int fd;
  int polling;
  int poll_inited;
  int poll_closed;  // uv_close finished (or never needed)
  int finalized;    // the JS wrapper is gone
  int closed;
  int in_delivery;
  // Blocking receive: the monotonic deadline (ms) of the current wait, once one began.
  int deadline_set;
  int64_t deadline_ms;
  unsigned char *buf;
} nl_sock;

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, NULL, "netlink addon: N-API call failed");  \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

static napi_value make_errno_error(napi_env env, int err, const char *syscall) {
  char msg[256];
  const char *code = uv_err_name(-err);
  snprintf(msg, sizeof msg, "%s: %s (%s)", syscall, strerror(err), code);
  napi_value m, c, e, n, s;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, m, &e);
  napi_create_int32(env, err, &n);
  napi_set_named_property(env, e, "errno", n);
  napi_set_named_property(env, e, "code", c);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, e, "syscall", s);
  return e;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  napi_throw(env, make_errno_error(env, err, syscall));
  return NULL;
}

// A datagram larger than the receive buffer: the kernel dropped its tail, so replies
// are lost. errno EMSGSIZE, marked `truncated` so the transport can tell it apart.
static napi_value make_truncated_error(napi_env env) {
  napi_value e = make_errno_error(env, EMSGSIZE, "recvmsg (datagram truncated)");
  napi_value t;
  napi_get_boolean(env, true, &t);
  napi_set_named_property(env, e, "truncated", t);
  return e;
}

static void free_buf(nl_sock *s) {
  if (!s->buf) return;
  free(s->buf);
  s->buf = NULL;
  live_bufs--;
}

static void free_sock(nl_sock *s) {
  free_buf(s);
  free(s);
  live_socks--;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_poll_closed(uv_handle_t *h) {
  nl_sock *s = (nl_sock *)h->data;
  s->poll_closed = 1;
  if (s->finalized) free_sock(s);
}

// Stops polling, closes the fd and frees the receive buffer. Safe inside a delivery:
// the datagram was copied out of the buffer before the callback, and the read loop
// checks `closed` before the next recvmsg.
static void do_close(nl_sock *s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->poll_inited) {
    uv_poll_stop(&s->poll);
    s->polling = 0;
    uv_close((uv_handle_t *)&s->poll, on_poll_closed);
  } else {
    s->poll_closed = 1;
  }
  if (s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
  free_buf(s);
}

// close() from JS: also lets go of the callback, so a closed socket that is still
// referenced keeps nothing its callback captured alive.
static void close_from_js(napi_env env, napi_value self, nl_sock *s) {
  do_close(s);
  if (s->callback) {
    napi_delete_reference(env, s->callback);
    s->callback = NULL;
  }
  bool deleted;
  napi_value key;
  if (self && napi_create_string_utf8(env, CALLBACK_KEY, NAPI_AUTO_LENGTH, &key) == napi_ok)
    napi_delete_property(env, self, key, &deleted);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  nl_sock *s = (nl_sock *)data;
  do_close(s);
  if (s->callback) napi_delete_reference(env, s->callback);
  if (s->resource) napi_delete_reference(env, s->resource);
  if (s->async_ctx) napi_async_destroy(env, s->async_ctx);
  s->callback = NULL;
  s->resource = NULL;
  s->async_ctx = NULL;
  s->finalized = 1;
  if (s->poll_closed) free_sock(s);
}

// Calls back into JS from the uv loop (no JS on the stack). napi_make_callback runs
// the callback in its async context and drains nextTicks/microtasks afterwards. If
// the callback throws, the exception is handed to napi_fatal_exception, which routes
// it to process 'uncaughtException' (exiting only if nothing handles it).
static void deliver(nl_sock *s, napi_value err, napi_value data) {
  napi_env env = s->env;
  napi_value cb, recv, argv[2];
  if (s->callback == NULL) return;
  if (napi_get_reference_value(env, s->callback, &cb) != napi_ok || cb == NULL) return;
  // napi_make_callback converts the receiver to an object: undefined would throw.
  napi_get_global(env, &recv);
  if (err) {
    argv[0] = err;
    napi_get_undefined(env, &argv[1]);
  } else {
    napi_get_null(env, &argv[0]);
    argv[1] = data;
  }
  napi_value result;
  napi_status st = napi_make_callback(env, s->async_ctx, recv, cb, 2, argv, &result);
  if (st == napi_pending_exception) {
    napi_value exc;
    if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
}

#define RECV_TRUNCATED (-2)

// One non-blocking recvmsg into s->buf: the datagram's length, -1 with errno set, or
// RECV_TRUNCATED when the datagram did not fit (it is gone: netlink drops the rest).
static ssize_t recv_datagram(nl_sock *s) {
  struct sockaddr_nl from;
  struct iovec iov = {s->buf, RECV_BUF_SIZE};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_name = &from;
  mh.msg_namelen = sizeof from;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  ssize_t n = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
  if (n >= 0 && ((size_t)n > RECV_BUF_SIZE || (mh.msg_flags & MSG_TRUNC))) return RECV_TRUNCATED;
  return n;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  nl_sock *s = (nl_sock *)h->data;
  if (s->closed) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  s->in_delivery = 1;
  if (status < 0) {
    // libuv reports EPOLLERR as UV_EBADF and stops the handle. On a netlink socket
    // EPOLLERR means a pending socket error, typically ENOBUFS after the kernel
    // dropped replies: fetch (and clear) it, hand it on, and keep polling.
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr != 0) {
      deliver(s, make_errno_error(env, soerr, "recvmsg"), NULL);
    }
    if (!s->closed) {
      int r = uv_poll_start(&s->poll, UV_READABLE, on_readable);
      if (r < 0) {
        s->polling = 0;
        deliver(s, make_errno_error(env, -r, "uv_poll_start"), NULL);
      }
    }
  }
  (void)events;
  for (int i = 0; i < MAX_DATAGRAMS_PER_TURN && !s->closed; i++) {
    ssize_t n = recv_datagram(s);
    if (n == -1) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK) break;
      if (e == EINTR) continue;
      napi_handle_scope inner;
      napi_open_handle_scope(env, &inner);
      deliver(s, make_errno_error(env, e, "recvmsg"), NULL);
      napi_close_handle_scope(env, inner);
      // ENOBUFS clears the socket error; the socket goes on working. Anything else
      // may repeat forever, so stop this turn and let the next poll decide.
      if (e != ENOBUFS) break;
      continue;
    }
    napi_handle_scope inner;
    napi_open_handle_scope(env, &inner);
    if (n == RECV_TRUNCATED) {
      deliver(s, make_truncated_error(env), NULL);
    } else {
      napi_value buf;
      void *unused;
      if (napi_create_buffer_copy(env, (size_t)n, s->buf, &unused, &buf) == napi_ok)
        deliver(s, NULL, buf);
    }
    napi_close_handle_scope(env, inner);
  }
  s->in_delivery = 0;
  napi_close_handle_scope(env, scope);
}

static nl_sock *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    napi_throw_error(env, NULL, "netlink: not a socket");
    return NULL;
  }
  nl_sock *s = (nl_sock *)data;
  if (s->closed) {
    napi_throw_error(env, "ERR_SOCKET_CLOSED", "netlink: socket is closed");
    return NULL;
  }
  return s;
}

static int get_int(napi_env env, napi_value v, int32_t *out, const char *what) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "netlink: %s must be a number", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

// new NetlinkSocket(protocol, callback). Every failure after socket() gives back what
// was taken: the fd, the struct, the buffer, references and the async context.
static napi_value Ctor(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  int32_t proto;
  if (argc < 2 || !get_int(env, argv[0], &proto, "protocol")) return NULL;
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[1], &t));
  if (t != napi_function) {
    napi_throw_type_error(env, NULL, "netlink: callback must be a function");
    return NULL;
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
  if (fd < 0) return throw_errno(env, errno, "socket");
  nl_sock *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, ENOMEM, "calloc");
  }
  live_socks++;
  s->env = env;
  s->fd = fd;
  s->poll_closed = 1;
  s->buf = malloc(RECV_BUF_SIZE);
  if (!s->buf) {
    do_close(s);
    free_sock(s);
    return throw_errno(env, ENOMEM, "malloc");
  }
  live_bufs++;
  const char *failed = NULL;
  napi_value name;
  napi_property_descriptor cb_prop = {CALLBACK_KEY, NULL, NULL, NULL, NULL, argv[1],
                                      napi_configurable, NULL};
  if (napi_define_properties(env, self, 1, &cb_prop) != napi_ok)
    failed = "define callback";
  else if (napi_create_reference(env, argv[1], 0, &s->callback) != napi_ok)
    failed = "reference callback";
  else if (napi_create_reference(env, self, 0, &s->resource) != napi_ok)
    failed = "reference self";
  else if (napi_create_string_utf8(env, "NetlinkSocket", NAPI_AUTO_LENGTH, &name) != napi_ok ||
           napi_async_init(env, self, name, &s->async_ctx) != napi_ok)
    failed = "async context";
  else if (napi_wrap(env, self, s, finalize, NULL, NULL) != napi_ok)
    failed = "wrap";
  if (failed) {
    close_from_js(env, self, s);
    if (s->resource) napi_delete_reference(env, s->resource);
    if (s->async_ctx) napi_async_destroy(env, s->async_ctx);
    free_sock(s);
    char msg[96];
    snprintf(msg, sizeof msg, "netlink: constructor failed (%s)", failed);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, NULL, msg);
    return NULL;
  }
  return self;
}

// bind(groups) -> port id assigned by the kernel
static napi_value Bind(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  nl_sock *s = unwrap(env, info, &argc, argv);
  if (!s) return NULL;
  int32_t groups = 0;
  if (argc >= 1 && !get_int(env, argv[0], &groups, "groups")) return NULL;
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  sa.nl_pid = 0;
  sa.nl_groups = (uint32_t)groups;
  if (bind(s->fd, (struct sockaddr *)&sa, sizeof sa) < 0) return throw_errno(env, errno, "bind");
  socklen_t len = sizeof sa;
  if (getsockname(s->fd, (struct sockaddr *)&sa, &len) < 0)
    return throw_errno(env, errno, "getsockname");
  napi_value r;
  CHECK(napi_create_uint32(env, sa.nl_pid, &r));
  return r;
}

// setsockopt(level, name, value)
static napi_value SetOpt(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  nl_sock *s = unwrap(env, info, &argc, argv);
  if (!s) return NULL;
  int32_t level, name, value;
  if (argc < 3 || !get_int(env, argv[0], &level, "level") || !get_int(env, argv[1], &name, "name") ||
      !get_int(env, argv[2], &value, "value"))
    return NULL;
  int v = value;
  if (setsockopt(s->fd, level, name, &v, sizeof v) < 0) return throw_errno(env, errno, "setsockopt");
  return NULL;
}

// getsockopt(level, name) -> int
static napi_value GetOpt(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  nl_sock *s = unwrap(env, info, &argc, argv);
  if (!s) return NULL;
  int32_t level, name;
  if (argc < 2 || !get_int(env, argv[0], &level, "level") || !get_int(env, argv[1], &name, "name"))
    return NULL;
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(s->fd, level, name, &v, &len) < 0) return throw_errno(env, errno, "getsockopt");
  napi_value r;
  CHECK(napi_create_int32(env, v, &r));
  return r;
}

// receive(timeoutMs, resume) -> Buffer | null: reads one datagram without the event
// loop; null when none came within the wait. For short-lived commands that make many
// sequential round trips (lvsadm's dump per service): the kernel answers a request
// inside sendmsg, so the reply is usually queued already and a round trip costs sendmsg
// and one recvmsg, where the event-loop path adds an epoll turn, a second recvmsg to
// EAGAIN and a callback. Errors (ENOBUFS included) are thrown.
//
// The wait is wall-clock: timeoutMs from the first time this wait had to poll, however
// many datagrams and spurious wakeups came in between. `resume` true continues the
// previous call's wait (one exchange reading many datagrams); false starts a new one.
// The clock is read only around poll(), never for a datagram already queued: under UML
// each clock read is a real system call. timeoutMs 0 never waits; a negative timeout is
// a RangeError (it used to mean "do not wait" by accident).
static napi_value Receive(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  nl_sock *s = unwrap(env, info, &argc, argv);
  if (!s) return NULL;
  int32_t timeout;
  if (argc < 1 || !get_int(env, argv[0], &timeout, "timeoutMs")) return NULL;
  if (timeout < 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "netlink: timeoutMs must be >= 0");
    return NULL;
  }
  bool resume = false;
  if (argc >= 2) napi_get_value_bool(env, argv[1], &resume);
  if (!resume) s->deadline_set = 0;
  napi_value result;
  for (;;) {
    ssize_t n = recv_datagram(s);
    if (n == RECV_TRUNCATED) {
      napi_throw(env, make_truncated_error(env));
      return NULL;
    }
    if (n >= 0) {
      void *unused;
      CHECK(napi_create_buffer_copy(env, (size_t)n, s->buf, &unused, &result));
      return result;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return throw_errno(env, errno, "recvmsg");
    int64_t now = now_ms();
    if (!s->deadline_set) {
      s->deadline_set = 1;
      s->deadline_ms = now + timeout;
    }
    int64_t left = s->deadline_ms - now;
    if (left <= 0) break;
    struct pollfd pfd = {s->fd, POLLIN, 0};
    int pr = poll(&pfd, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
    if (pr < 0 && errno != EINTR) return throw_errno(env, errno, "poll");
    // Woken (data, EINTR or spuriously): try to read, then the clock decides.
  }
  CHECK(napi_get_null(env, &result));
  return result;
}

// send(buffer) -> bytes sent; to the kernel (port 0)
static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  nl_sock *s = unwrap(env, info, &argc, argv);
  if (!s) return NULL;
  bool is_buf = false;
  if (argc < 1 || napi_is_buffer(env, argv[0], &is_buf) != napi_ok || !is_buf) {
    napi_throw_type_error(env, NULL, "netlink: send needs a Buffer");
    return NULL;
  }
  void *data;
  size_t len;
  CHECK(napi_get_buffer_info(env, argv[0], &data, &len));
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  ssize_t n;
  do {
    n = sendto(s->fd, data, len, 0, (struct sockaddr *)&sa, sizeof sa);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, errno, "sendto");
  napi_value r;
  CHECK(napi_create_int64(env, (int64_t)n, &r));
  return r;
}

// start(): begin delivering datagrams to the callback
static napi_value Start(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  nl_sock *s = unwrap(env, info, &argc, NULL);
  if (!s) return NULL;
  if (!s->poll_inited) {
    uv_loop_t *loop;
    CHECK(napi_get_uv_event_loop(env, &loop));
    int r = uv_poll_init(loop, &s->poll, s->fd);
    if (r < 0) return throw_errno(env, -r, "uv_poll_init");
    s->poll.data = s;
    s->poll_inited = 1;
    s->poll_closed = 0;
  }
  if (!s->polling) {
    int r = uv_poll_start(&s->poll, UV_READABLE, on_readable);
    if (r < 0) return throw_errno(env, -r, "uv_poll_start");
    s->polling = 1;
  }
  return NULL;
}

// ref(bool): whether a started socket keeps the event loop alive
static napi_value Ref(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  nl_sock *s = unwrap(env, info, &argc, argv);
  if (!s) return NULL;
  bool on = true;
  if (argc >= 1) napi_get_value_bool(env, argv[0], &on);
  if (s->poll_inited) {
    if (on)
      uv_ref((uv_handle_t *)&s->poll);
    else
      uv_unref((uv_handle_t *)&s->poll);
  }
  return NULL;
}

static napi_value Close(napi_env env, napi_callback_info info) {
  napi_value self;
  void *data = NULL;
  size_t argc = 0;
  CHECK(napi_get_cb_info(env, info, &argc, NULL, &self, NULL));
  if (napi_unwrap(env, self, &data) == napi_ok && data) close_from_js(env, self, (nl_sock *)data);
  return NULL;
}

static napi_value Fd(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  nl_sock *s = unwrap(env, info, &argc, NULL);
  if (!s) return NULL;
  napi_value r;
  CHECK(napi_create_int32(env, s->fd, &r));
  return r;
}

// allocations() -> { sockets, buffers }: native structs and receive buffers alive.
static napi_value Allocations(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r, a, b;
  CHECK(napi_create_object(env, &r));
  CHECK(napi_create_int64(env, live_socks, &a));
  CHECK(napi_create_int64(env, live_bufs, &b));
  CHECK(napi_set_named_property(env, r, "sockets", a));
  CHECK(napi_set_named_property(env, r, "buffers", b));
  return r;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"bind", NULL, Bind, NULL, NULL, NULL, napi_default, NULL},
      {"setsockopt", NULL, SetOpt, NULL, NULL, NULL, napi_default, NULL},
      {"getsockopt", NULL, GetOpt, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, Send, NULL, NULL, NULL, napi_default, NULL},
      {"receive", NULL, Receive, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, Start, NULL, NULL, NULL, napi_default, NULL},
      {"ref", NULL, Ref, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
      {"fd", NULL, Fd, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  if (napi_define_class(env, "NetlinkSocket", NAPI_AUTO_LENGTH, Ctor, NULL,
                        sizeof methods / sizeof methods[0], methods, &cls) != napi_ok)
    return NULL;
  napi_set_named_property(env, exports, "NetlinkSocket", cls);
  napi_value v;
  napi_create_int32(env, RECV_BUF_SIZE, &v);
  napi_set_named_property(env, exports, "RECV_BUF_SIZE", v);
  napi_create_int32(env, MAX_DATAGRAMS_PER_TURN, &v);
  napi_set_named_property(env, exports, "MAX_DATAGRAMS_PER_TURN", v);
  napi_value fn;
  napi_create_function(env, "allocations", NAPI_AUTO_LENGTH, Allocations, NULL, &fn);
  napi_set_named_property(env, exports, "allocations", fn);
  napi_create_function(env, "mallocArenaMax", NAPI_AUTO_LENGTH, MallocArenaMax, NULL, &fn);
  napi_set_named_property(env, exports, "mallocArenaMax", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

// Preloaded into Debian 12's User-Mode Linux (6.1) on hosts whose XSAVE area is larger
// than the FPU buffer UML keeps per task (AVX-512, AMX). UML saves and restores a task's
// FPU state with PTRACE_GETREGSET/SETREGSET(NT_X86_XSTATE) and that buffer; the host
// kernel truncates the GET but refuses (EFAULT) a SET shorter than its whole XSAVE area,
// so UML panics at its first process. This shim does both calls with the whole area and
// keeps the part that does not fit UML's buffer beside it, keyed by the buffer's address
// (one per UML task), so a task gets back exactly the state it had.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#define NT_X86_XSTATE 0x202
#define MAX_XSTATE (64 * 1024)
#define SLOTS 16384

struct slot {
  const void *key;
  size_t tail_len;
  unsigned char *tail;
};

static struct slot slots[SLOTS];
static __thread unsigned char scratch[MAX_XSTATE];
static long (*real_ptrace)(int, pid_t, void *, void *);

static struct slot *slot_for(const void *key, int create) {
  size_t h = ((uintptr_t)key >> 4) % SLOTS;
  for (size_t i = 0; i < SLOTS; i++) {
    struct slot *s = &slots[(h + i) % SLOTS];
    if (s->key == key) return s;
    if (s->key == NULL) {
      if (!create) return NULL;
      s->key = key;
      return s;
    }
  }
  return NULL;
}

static unsigned char *tail_storage(struct slot *s, size_t len) {
  if (s->tail && s->tail_len >= len) return s->tail;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  if (s->tail) munmap(s->tail, s->tail_len);
  s->tail = p;
  s->tail_len = len;
  return p;
}

static long get_full(pid_t pid, size_t *full) {
  struct iovec whole = {scratch, sizeof scratch};
  long r = real_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &whole);
  if (r == 0) *full = whole.iov_len;
  return r;
}

long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if (!real_ptrace) real_ptrace = (long (*)(int, pid_t, void *, void *))dlsym(RTLD_NEXT, "ptrace");
  int xstate = (uintptr_t)addr == NT_X86_XSTATE;
  if (!xstate || (request != PTRACE_GETREGSET && request != PTRACE_SETREGSET))
    return real_ptrace(request, pid, addr, data);

  struct iovec *iov = data;
  size_t full = 0;
  if (request == PTRACE_GETREGSET) {
    long r = get_full(pid, &full);
    if (r != 0) return r;
    size_t head = iov->iov_len < full ? iov->iov_len : full;
    memcpy(iov->iov_base, scratch, head);
    iov->iov_len = head;
    if (full > head) {
      struct slot *s = slot_for(iov->iov_base, 1);
      unsigned char *t = s ? tail_storage(s, full - head) : NULL;
      if (t) memcpy(t, scratch + head, full - head);
    }
    return 0;
  }
  // SET: UML's head, then the tail this buffer had at its last GET (zeros if none).
  long r = get_full(pid, &full);
  if (r != 0) return r;
  size_t head = iov->iov_len < full ? iov->iov_len : full;
  memcpy(scratch, iov->iov_base, head);
  struct slot *s = slot_for(iov->iov_base, 0);
  if (full > head) {
    if (s && s->tail && s->tail_len >= full - head)
      memcpy(scratch + head, s->tail, full - head);
    else
      memset(scratch + head, 0, full - head);
  }
  struct iovec whole = {scratch, full};
  return real_ptrace(PTRACE_SETREGSET, pid, addr, &whole);
}

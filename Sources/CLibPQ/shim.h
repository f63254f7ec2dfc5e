#ifndef ESURAT_CLIBPQ_SHIM_H
#define ESURAT_CLIBPQ_SHIM_H

#include <libpq-fe.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

/* PG_DIAG_* are character literals in postgres_ext.h; Swift imports them as Int32 but the
 * names read better through these functions at the call site. */
static inline int CLibPQ_diagSQLState(void) { return PG_DIAG_SQLSTATE; }
static inline int CLibPQ_diagSeverity(void) { return PG_DIAG_SEVERITY_NONLOCALIZED; }
static inline int CLibPQ_diagMessagePrimary(void) { return PG_DIAG_MESSAGE_PRIMARY; }
static inline int CLibPQ_diagMessageDetail(void) { return PG_DIAG_MESSAGE_DETAIL; }
static inline int CLibPQ_diagMessageHint(void) { return PG_DIAG_MESSAGE_HINT; }
static inline int CLibPQ_diagConstraintName(void) { return PG_DIAG_CONSTRAINT_NAME; }
static inline int CLibPQ_diagTableName(void) { return PG_DIAG_TABLE_NAME; }
static inline int CLibPQ_diagColumnName(void) { return PG_DIAG_COLUMN_NAME; }

/* Socket readiness for libpq connections in non-blocking mode. epoll_event is a packed
 * struct on x86_64, which Swift does not lay out reliably, so these take plain ints. */
static inline int CLibPQ_epollCreate(void) { return epoll_create1(EPOLL_CLOEXEC); }

/* Arms `fd` once for `wantWrite ? EPOLLOUT|EPOLLIN : EPOLLIN`; returns 0 or -errno. */
static inline int CLibPQ_epollArm(int epfd, int fd, int wantWrite) {
    struct epoll_event ev;
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT | (wantWrite ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == 0) return 0;
    if (errno == ENOENT && epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0) return 0;
    return -errno;
}

static inline void CLibPQ_epollForget(int epfd, int fd) { epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

/* Waits for ready descriptors and writes them to `fds`; returns their count, or -errno. */
static inline int CLibPQ_epollWait(int epfd, int *fds, int capacity, int timeoutMilliseconds) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int n = epoll_wait(epfd, events, capacity, timeoutMilliseconds);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) fds[i] = events[i].data.fd;
    return n;
}

static inline int CLibPQ_eventfdCreate(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
static inline void CLibPQ_eventfdSignal(int fd) { uint64_t one = 1; (void)!write(fd, &one, sizeof one); }
static inline void CLibPQ_eventfdDrain(int fd) { uint64_t value; (void)!read(fd, &value, sizeof value); }

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Everything callmgrd says to systemd, in one place: readiness and status
 * (sd_notify), the watchdog, socket activation and the journal.  Every call
 * is harmless when the daemon does not run under systemd.
 */
#ifndef CALLMGR_SD_H
#define CALLMGR_SD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "log.h"

struct event_base;

/*
 * The IPC socket passed by systemd (callmgrd.socket), checked to be a
 * listening AF_UNIX stream socket.  Returns the fd, -1 when none was passed,
 * or -2 with a message in err when what was passed is unusable.
 */
int sdg_listen_fd(char *err, size_t errlen);

/* READY=1 with a first STATUS=. */
void sdg_ready(const char *status);
/* STATUS=<text>, sent only when it differs from the last one. */
void sdg_status(const char *status);
void sdg_reloading(void);
void sdg_stopping(void);

/*
 * Periodic keep-alive: every half WatchdogUsec (when the watchdog is on)
 * send WATCHDOG=1, and refresh STATUS= from status_fn at most every few
 * seconds.  Returns 0; -1 if the timer could not be made.
 */
typedef void (*sdg_status_fn)(void *ctx, char *buf, size_t len);
int sdg_start(struct event_base *base, sdg_status_fn status_fn, void *ctx);
void sdg_stop(void);
/* The watchdog interval in µs the service manager asked for, 0 when none. */
unsigned long long sdg_watchdog_usec(void);

/* True when stderr is the journal's stream ($JOURNAL_STREAM names it). */
bool sdg_stderr_is_journal(void);
/* Send log lines to the journal with structured fields (log_set_sink). */
void sdg_use_journal(void);

/*
 * The journal fields of one log line, as "NAME=value" iovecs: MESSAGE,
 * PRIORITY, CODE_FILE, CODE_LINE, CODE_FUNC, SYSLOG_IDENTIFIER and, when
 * set, CM_VC, CM_PARTY, CM_PEER.  Returns how many were filled (at most
 * SDG_MAX_FIELDS); the text lives in buf.  Apart for the tests.
 */
#define SDG_MAX_FIELDS 9
struct sdg_fields {
	struct iovec iov[SDG_MAX_FIELDS];
	char buf[1024];
};
int sdg_journal_fields(int level, const struct log_ctx *ctx, const char *msg,
		       struct sdg_fields *out);

#endif

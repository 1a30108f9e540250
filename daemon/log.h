/* SPDX-License-Identifier: MIT */
/*
 * Logging for every daemon module.  Call control logs through this too: a
 * log line is a side channel, not an I/O effect on the call model.  The
 * sink is stderr by default; the daemon swaps in the journal (sd.c), which
 * turns vc/party/peer into the structured fields CM_VC, CM_PARTY, CM_PEER.
 */
#ifndef CALLMGR_LOG_H
#define CALLMGR_LOG_H

#include <stdint.h>
#include <syslog.h> /* LOG_ERR .. LOG_DEBUG */

struct log_ctx {
	uint64_t vc;          /* 0 when none */
	uint64_t party;       /* 0 when none */
	const uint8_t *peer;  /* 6-octet MAC or NULL */
	const char *file;
	int line;
	const char *func;
};

typedef void (*log_sink_fn)(int level, const struct log_ctx *ctx, const char *msg);

extern int log_max_level;

void log_set_level(int level);
/* "err", "warning", "notice", "info", "debug" (or 3..7); -1 if unknown. */
int log_level_parse(const char *name);
const char *log_level_name(int level);
void log_set_sink(log_sink_fn fn); /* NULL restores stderr */

void log_write(int level, uint64_t vc, uint64_t party, const uint8_t *peer, const char *file,
	       int line, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

#define log_at(level, vc, party, peer, ...)                                                      \
	do {                                                                                     \
		if ((level) <= log_max_level)                                                    \
			log_write((level), (vc), (party), (peer), __FILE__, __LINE__, __func__,  \
				  __VA_ARGS__);                                                  \
	} while (0)

/*
 * The one out-of-memory policy (docs/architecture.md): an allocation that
 * fails after start-up, where going on would lose a message, a timer or a
 * state change, ends the daemon.  log_oom() logs "out of memory: WHAT" at
 * LOG_CRIT and exits with CM_EXIT_NOMEM; systemd restarts the service
 * (Restart=on-failure) and the peers recover the calls as after a crash
 * (SSCOP failure, T309, RESTART).  Requests that merely cannot be answered
 * (a view too big to build) are refused with CM_E_NOMEM instead, before
 * anything changed.
 */
#define CM_EXIT_NOMEM 71 /* EX_OSERR */
_Noreturn void log_oom_at(const char *file, int line, const char *func, const char *what);
#define log_oom(what) log_oom_at(__FILE__, __LINE__, __func__, (what))

#define log_err(...) log_at(LOG_ERR, 0, 0, NULL, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARNING, 0, 0, NULL, __VA_ARGS__)
#define log_notice(...) log_at(LOG_NOTICE, 0, 0, NULL, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, 0, 0, NULL, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, 0, 0, NULL, __VA_ARGS__)

#endif

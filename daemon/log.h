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
/*
 * This node's own MAC.  A leg to it (every leg in local mode) has no peer, so
 * log_write drops a peer equal to it rather than tag the line with CM_PEER
 * naming the node itself.  Until called, the local-mode ESI
 * (DAEMON_LOCAL_ESI); the daemon calls it once it knows its interface's MAC.
 */
void log_set_own_address(const uint8_t mac[6]);

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

/*
 * Rate limiting for messages an outsider can trigger (a peer's frames, a
 * client's requests): at most LOG_RATELIMIT_BURST lines a second from one
 * call site; the first line let through after a suppression says how many
 * were dropped.  Reads the monotonic clock, which leaves pure modules'
 * behaviour clock-free: only whether a line is written depends on it.
 */
#define LOG_RATELIMIT_BURST 10

struct log_ratelimit {
	int64_t window_ms; /* start of the current one-second window */
	uint32_t used;     /* lines written in it */
	uint64_t suppressed;
};

/* Whether one more line may be written now (after noting suppressions). */
int log_ratelimit_pass(struct log_ratelimit *rl, int level);

#define log_at_limited(level, vc, party, peer, ...)                                              \
	do {                                                                                     \
		static struct log_ratelimit log_rl_;                                             \
		if ((level) <= log_max_level && log_ratelimit_pass(&log_rl_, (level)))           \
			log_write((level), (vc), (party), (peer), __FILE__, __LINE__, __func__,  \
				  __VA_ARGS__);                                                  \
	} while (0)

#endif

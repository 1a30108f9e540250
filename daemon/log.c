/* SPDX-License-Identifier: MIT */
#include "log.h"

#include "daemon.h" /* DAEMON_LOCAL_ESI */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int log_max_level = LOG_NOTICE;
static log_sink_fn log_sink;
static uint8_t own_address[6] = DAEMON_LOCAL_ESI;

static const char *const level_names[] = {
	[LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_level(int level)
{
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_max_level = level;
}

int log_level_parse(const char *name)
{
	for (int l = LOG_ERR; l <= LOG_DEBUG; l++)
		if (strcmp(name, level_names[l]) == 0)
			return l;
	if (name[0] >= '3' && name[0] <= '7' && name[1] == '\0')
		return name[0] - '0';
	return -1;
}

const char *log_level_name(int level)
{
	if (level < LOG_ERR || level > LOG_DEBUG)
		return "?";
	return level_names[level];
}

void log_set_sink(log_sink_fn fn)
{
	log_sink = fn;
}

void log_set_own_address(const uint8_t mac[6])
{
	memcpy(own_address, mac, sizeof(own_address));
}

static void log_to_stderr(int level, const struct log_ctx *ctx, const char *msg)
{
	char where[64] = "";
	if (ctx->vc)
		snprintf(where, sizeof(where), " vc=%llu", (unsigned long long)ctx->vc);
	if (ctx->party)
		snprintf(where + strlen(where), sizeof(where) - strlen(where), " party=%llu",
			 (unsigned long long)ctx->party);
	fprintf(stderr, "callmgrd[%s]%s: %s\n", log_level_name(level), where, msg);
}

void log_write(int level, uint64_t vc, uint64_t party, const uint8_t *peer, const char *file,
	       int line, const char *func, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (peer && memcmp(peer, own_address, sizeof(own_address)) == 0)
		peer = NULL;
	struct log_ctx ctx = { vc, party, peer, file, line, func };
	(log_sink ? log_sink : log_to_stderr)(level, &ctx, msg);
}

void log_oom_at(const char *file, int line, const char *func, const char *what)
{
	log_write(LOG_CRIT, 0, 0, NULL, file, line, func,
		  "out of memory: %s; exiting (status %d) to be restarted clean", what,
		  CM_EXIT_NOMEM);
	exit(CM_EXIT_NOMEM);
}

/* ------------------------------------------------------------------ */
/* Rate limiting (log.h)                                               */

#include <time.h>

int log_ratelimit_pass(struct log_ratelimit *rl, int level)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now - rl->window_ms >= 1000) {
		rl->window_ms = now;
		rl->used = 0;
		if (rl->suppressed) {
			uint64_t n = rl->suppressed;
			rl->suppressed = 0;
			rl->used++;
			log_write(level, 0, 0, NULL, __FILE__, __LINE__, __func__,
				  "%llu similar messages suppressed (rate limit)", (unsigned long long)n);
		}
	}
	if (rl->used >= LOG_RATELIMIT_BURST) {
		rl->suppressed++;
		return 0;
	}
	rl->used++;
	return 1;
}

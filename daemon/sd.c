/* SPDX-License-Identifier: MIT */
#include "sd.h"

#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
/*
 * Without this, sd_journal_sendv is a macro adding journal_sink's own
 * CODE_FILE/LINE/FUNC next to the caller's location that log.h passes in:
 * every entry would carry two of each.
 */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

/* How often STATUS= is refreshed when no watchdog asks for more. */
#define STATUS_PERIOD_USEC 5000000ULL

static struct {
	struct event *timer;
	sdg_status_fn status_fn;
	void *ctx;
	unsigned long long watchdog_usec;
	char last_status[256];
} sdg;

int sdg_listen_fd(char *err, size_t errlen)
{
	/* unset_environment: our children (none today) must not inherit them */
	int n = sd_listen_fds(1);
	if (n < 0) {
		snprintf(err, errlen, "socket activation: %s", strerror(-n));
		return -2;
	}
	if (n == 0)
		return -1;
	if (n > 1) {
		snprintf(err, errlen, "socket activation: %d sockets passed, expected one", n);
		return -2;
	}
	int fd = SD_LISTEN_FDS_START;
	int r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);
	if (r <= 0) {
		snprintf(err, errlen,
			 "socket activation: fd %d is not a listening Unix stream socket", fd);
		return -2;
	}
	return fd;
}

void sdg_ready(const char *status)
{
	snprintf(sdg.last_status, sizeof(sdg.last_status), "%s", status ? status : "");
	sd_notifyf(0, "READY=1\nSTATUS=%s", sdg.last_status);
}

void sdg_status(const char *status)
{
	if (strcmp(status, sdg.last_status) == 0)
		return;
	snprintf(sdg.last_status, sizeof(sdg.last_status), "%s", status);
	sd_notifyf(0, "STATUS=%s", sdg.last_status);
}

void sdg_reloading(void)
{
	sd_notify(0, "RELOADING=1");
}

void sdg_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

unsigned long long sdg_watchdog_usec(void)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	if (sdg.status_fn) {
		char status[256];
		sdg.status_fn(sdg.ctx, status, sizeof(status));
		sdg_status(status);
	}
	if (sdg.watchdog_usec)
		sd_notify(0, "WATCHDOG=1");
}

int sdg_start(struct event_base *base, sdg_status_fn status_fn, void *ctx)
{
	sdg_stop();
	sdg.status_fn = status_fn;
	sdg.ctx = ctx;
	sdg.watchdog_usec = sdg_watchdog_usec();
	/*
	 * Half the watchdog period leaves room for one late tick under load
	 * before systemd declares us hung.
	 */
	unsigned long long period = STATUS_PERIOD_USEC;
	if (sdg.watchdog_usec && sdg.watchdog_usec / 2 < period)
		period = sdg.watchdog_usec / 2;
	if (period == 0)
		period = 1;
	sdg.timer = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	if (!sdg.timer)
		return -1;
	struct timeval tv = { .tv_sec = (time_t)(period / 1000000),
			      .tv_usec = (suseconds_t)(period % 1000000) };
	if (event_add(sdg.timer, &tv) < 0) {
		event_free(sdg.timer);
		sdg.timer = NULL;
		return -1;
	}
	if (sdg.watchdog_usec)
		sd_notify(0, "WATCHDOG=1");
	return 0;
}

void sdg_stop(void)
{
	if (sdg.timer) {
		event_free(sdg.timer);
		sdg.timer = NULL;
	}
	sdg.status_fn = NULL;
}

bool sdg_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	if (!js)
		return false;
	unsigned long long dev, ino;
	if (sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	struct stat st;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Append one "NAME=value" field to out, its text in out->buf. */
__attribute__((format(printf, 4, 5))) static int add_field(struct sdg_fields *out, int n, size_t *used, const char *fmt, ...)
{
	if (n >= SDG_MAX_FIELDS || *used >= sizeof(out->buf))
		return n;
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(out->buf + *used, sizeof(out->buf) - *used, fmt, ap);
	va_end(ap);
	if (len < 0)
		return n;
	size_t room = sizeof(out->buf) - *used - 1;
	size_t take = (size_t)len < room ? (size_t)len : room;
	out->iov[n].iov_base = out->buf + *used;
	out->iov[n].iov_len = take;
	*used += take + 1;
	return n + 1;
}

int sdg_journal_fields(int level, const struct log_ctx *ctx, const char *msg,
		       struct sdg_fields *out)
{
	size_t used = 0;
	int n = 0;
	/* the fixed, short fields first so a long message cannot crowd them out */
	n = add_field(out, n, &used, "PRIORITY=%d", level);
	n = add_field(out, n, &used, "%s", "SYSLOG_IDENTIFIER=callmgrd");
	n = add_field(out, n, &used, "CODE_FILE=%s", ctx->file ? ctx->file : "");
	n = add_field(out, n, &used, "CODE_LINE=%d", ctx->line);
	n = add_field(out, n, &used, "CODE_FUNC=%s", ctx->func ? ctx->func : "");
	if (ctx->vc)
		n = add_field(out, n, &used, "CM_VC=%llu", (unsigned long long)ctx->vc);
	if (ctx->party)
		n = add_field(out, n, &used, "CM_PARTY=%llu", (unsigned long long)ctx->party);
	if (ctx->peer)
		n = add_field(out, n, &used, "CM_PEER=%02x:%02x:%02x:%02x:%02x:%02x",
			      ctx->peer[0], ctx->peer[1], ctx->peer[2], ctx->peer[3],
			      ctx->peer[4], ctx->peer[5]);
	n = add_field(out, n, &used, "MESSAGE=%s", msg);
	return n;
}

static void journal_sink(int level, const struct log_ctx *ctx, const char *msg)
{
	struct sdg_fields f;
	int n = sdg_journal_fields(level, ctx, msg, &f);
	if (sd_journal_sendv(f.iov, n) < 0)
		/* journald gone (shutdown): stderr still reaches someone */
		fprintf(stderr, "callmgrd: %s\n", msg);
}

void sdg_use_journal(void)
{
	log_set_sink(journal_sink);
}

/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cm_frame.h"
#include "cm_hello_pb.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dmn_start(struct dmn *d)
{
	dmn_start_conf(d, d->conf);
}

void dmn_start_conf(struct dmn *d, const char *conf)
{
	const char *exe = getenv("CALLMGRD");
	ck_assert_msg(exe != NULL, "CALLMGRD (path of callmgrd) is not set");
	snprintf(d->dir, sizeof(d->dir), "/tmp/cmtest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d->dir));
	/* Other users (the permission test) must reach the socket. */
	chmod(d->dir, 0755);
	snprintf(d->sock, sizeof(d->sock), "%s/sub/callmgr.sock", d->dir);
	char conf_path[128] = "/dev/null";
	if (conf) {
		snprintf(conf_path, sizeof(conf_path), "%s/callmgrd.conf", d->dir);
		FILE *f = fopen(conf_path, "w");
		ck_assert_ptr_nonnull(f);
		fputs(conf, f);
		ck_assert_int_eq(fclose(f), 0);
	}
	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		/* ASan's quarantine would hide whether freed output is returned. */
		const char *asan = getenv("ASAN_OPTIONS");
		char opts[512];
		snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=8", asan ? asan : "",
			 asan && *asan ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
		const char *level = getenv("CALLMGRD_LOG_LEVEL");
		if (conf)
			execl(exe, exe, "--foreground", "--socket", d->sock, "--log-level",
			      level ? level : "notice", "--config", conf_path, (char *)NULL);
		else
			execl(exe, exe, "--foreground", "--socket", d->sock, "--log-level",
			      level ? level : "notice", (char *)NULL);
		_exit(127);
	}
	/* Ready once it accepts a connection. */
	for (int i = 0; i < 400; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		strcpy(sa.sun_path, d->sock);
		int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (rc == 0) {
			chmod(d->dir, 0755);
			char sub[160];
			snprintf(sub, sizeof(sub), "%s/sub", d->dir);
			chmod(sub, 0755);
			return;
		}
		int st;
		ck_assert_msg(waitpid(d->pid, &st, WNOHANG) == 0, "callmgrd exited at start-up");
		usleep(25000);
	}
	ck_abort_msg("callmgrd did not listen within 10 s");
}

static int wait_exit(pid_t pid, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int st;
	while (now_ms() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static void rm_dir(struct dmn *d)
{
	char path[192];
	unlink(d->sock);
	snprintf(path, sizeof(path), "%s/sub", d->dir);
	rmdir(path);
	rmdir(d->dir);
}

int dmn_stop(struct dmn *d)
{
	if (d->pid <= 0)
		return 0;
	kill(d->pid, SIGTERM);
	int rc = wait_exit(d->pid, 10000);
	d->pid = 0;
	rm_dir(d);
	return rc;
}

int dmn_wait(struct dmn *d, int timeout_ms)
{
	int rc = wait_exit(d->pid, timeout_ms);
	d->pid = 0;
	rm_dir(d);
	return rc;
}

void dmn_kill(struct dmn *d)
{
	kill(d->pid, SIGKILL);
	int st;
	waitpid(d->pid, &st, 0);
	d->pid = 0;
	rm_dir(d);
}

long dmn_rss_kb(const struct dmn *d)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	FILE *f = fopen(path, "r");
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ---------------------------------------------------------------- recording client */

static struct ev *record(cm_client *c, enum ev_type type)
{
	struct tclient *t = cm_client_userdata(c);
	ck_assert_int_lt(t->nevs, MAX_EVS);
	struct ev *e = &t->evs[t->nevs++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	return e;
}

static void after(cm_client *c, struct ev *e)
{
	struct tclient *t = cm_client_userdata(c);
	if (t->hook)
		t->hook(t, e);
}

/* A SAP completion: the selector goes into .party. */
static void record_sap(cm_client *c, enum ev_type type, int status, uint8_t sel, void *ctx)
{
	struct ev *e = record(c, type);
	e->status = status;
	e->party = sel;
	e->ctx = ctx;
	after(c, e);
}

static void cb_register_sap(cm_client *c, int status, uint8_t sel, void *ctx)
{
	record_sap(c, EV_REGISTER_SAP, status, sel, ctx);
}

static void cb_deregister_sap(cm_client *c, int status, uint8_t sel, void *ctx)
{
	record_sap(c, EV_DEREGISTER_SAP, status, sel, ctx);
}

static void record_answer(cm_client *c, enum ev_type type, int status, cm_vc_id vc,
			  cm_party_id party)
{
	struct ev *e = record(c, type);
	e->status = status;
	e->vc = vc;
	e->party = party;
	after(c, e);
}

static void cb_accept(cm_client *c, int status, cm_vc_id vc, cm_party_id party)
{
	record_answer(c, EV_ACCEPT, status, vc, party);
}

static void cb_reject(cm_client *c, int status, cm_vc_id vc, cm_party_id party)
{
	record_answer(c, EV_REJECT, status, vc, party);
}

static void cb_make_call(cm_client *c, int status, cm_vc_id vc, cm_party_id party, void *ctx)
{
	struct ev *e = record(c, EV_MAKE_CALL);
	e->status = status;
	e->vc = vc;
	e->party = party;
	e->ctx = ctx;
	after(c, e);
}

static void cb_add_party(cm_client *c, int status, cm_vc_id vc, cm_party_id party, void *ctx)
{
	struct ev *e = record(c, EV_ADD_PARTY);
	e->status = status;
	e->vc = vc;
	e->party = party;
	e->ctx = ctx;
	after(c, e);
}

static void cb_drop_party(cm_client *c, int status, cm_vc_id vc, cm_party_id party, void *ctx)
{
	struct ev *e = record(c, EV_DROP_PARTY);
	e->status = status;
	e->vc = vc;
	e->party = party;
	e->ctx = ctx;
	after(c, e);
}

static void cb_close_call(cm_client *c, int status, cm_vc_id vc, void *ctx)
{
	struct ev *e = record(c, EV_CLOSE_CALL);
	e->status = status;
	e->vc = vc;
	e->ctx = ctx;
	after(c, e);
}

static void cb_incoming_drop(cm_client *c, cm_vc_id vc, cm_party_id party, int cause,
			     const void *data, size_t len)
{
	struct tclient *t = cm_client_userdata(c);
	struct ev *e = record(c, EV_INCOMING_DROP);
	e->vc = vc;
	e->party = party;
	e->cause = cause;
	ck_assert_uint_le(len, CM_MAX_DATA);
	e->len = len;
	if (len)
		memcpy(e->data, data, len);
	if (t->auto_answer)
		ck_assert_int_eq(cm_drop_party(c, vc, party, NULL, 0, NULL), CM_OK);
	after(c, e);
}

static void cb_incoming_close(cm_client *c, cm_vc_id vc, int cause, const void *data,
			      size_t len)
{
	struct tclient *t = cm_client_userdata(c);
	struct ev *e = record(c, EV_INCOMING_CLOSE);
	e->vc = vc;
	e->cause = cause;
	ck_assert_uint_le(len, CM_MAX_DATA);
	e->len = len;
	if (len)
		memcpy(e->data, data, len);
	if (t->auto_answer) {
		/* the party of this VC, from the incoming call if we were offered it */
		cm_party_id party = 0;
		for (int i = 0; i < t->nevs; i++)
			if (t->evs[i].type == EV_INCOMING_CALL && t->evs[i].vc == vc)
				party = t->evs[i].party;
		ck_assert_int_eq(cm_close_call(c, vc, party, NULL, 0, party ? 0 : CM_CLOSE_FORCE,
					       NULL),
				 CM_OK);
	}
	after(c, e);
}

static void cb_incoming_call(cm_client *c, cm_vc_id vc, cm_party_id party, const char *caller,
			     const struct cm_call_params *p)
{
	struct tclient *t = cm_client_userdata(c);
	struct ev *e = record(c, EV_INCOMING_CALL);
	e->vc = vc;
	e->party = party;
	snprintf(e->caller, sizeof(e->caller), "%s", caller);
	if (t->auto_accept)
		ck_assert_int_eq(cm_accept_call(c, vc, party), CM_OK);
	after(c, e);
}

static void cb_connected(cm_client *c, cm_vc_id vc, cm_party_id party)
{
	struct ev *e = record(c, EV_CONNECTED);
	e->vc = vc;
	e->party = party;
	after(c, e);
}

static void cb_data_fd(cm_client *c, int status, cm_vc_id vc, int fd, void *ctx)
{
	struct ev *e = record(c, EV_DATA_FD);
	e->status = status;
	e->vc = vc;
	e->fd = fd;
	e->ctx = ctx;
	after(c, e);
}

static const struct cm_client_ops recording_ops = {
	CM_CLIENT_OPS_INIT,
	.register_sap_complete = cb_register_sap,
	.make_call_complete = cb_make_call,
	.add_party_complete = cb_add_party,
	.drop_party_complete = cb_drop_party,
	.close_call_complete = cb_close_call,
	.incoming_drop_party = cb_incoming_drop,
	.incoming_close_call = cb_incoming_close,
	.incoming_call = cb_incoming_call,
	.call_connected = cb_connected,
	.deregister_sap_complete = cb_deregister_sap,
	.accept_call_complete = cb_accept,
	.reject_call_complete = cb_reject,
	.data_fd_complete = cb_data_fd,
};

void tc_open(struct tclient *t, const struct dmn *d, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->auto_accept = true;
	t->auto_answer = true;
	int err = 1;
	t->c = cm_client_open(d->sock, &recording_ops, t, &err);
	ck_assert_msg(t->c != NULL, "%s: cm_client_open: %s", name, cm_strerror(err));
	ck_assert_int_eq(err, CM_OK);
}

void tc_close(struct tclient *t)
{
	if (t->c && !t->closed)
		cm_client_close(t->c);
	t->c = NULL;
	t->closed = true;
}

static void dispatch_ready(struct tclient **ts, int n, int wait_ms)
{
	struct pollfd pfd[16];
	int map[16], k = 0;
	for (int i = 0; i < n && k < 16; i++) {
		if (!ts[i]->c || ts[i]->closed || ts[i]->disconnected)
			continue;
		pfd[k].fd = cm_client_fd(ts[i]->c);
		pfd[k].events = POLLIN;
		pfd[k].revents = 0;
		map[k++] = i;
	}
	if (k == 0) {
		usleep((useconds_t)wait_ms * 1000);
		return;
	}
	if (poll(pfd, (nfds_t)k, wait_ms) <= 0)
		return;
	for (int j = 0; j < k; j++) {
		struct tclient *t = ts[map[j]];
		if (!pfd[j].revents || t->closed || !t->c)
			continue;
		int rc = cm_client_dispatch(t->c);
		if (t->closed)
			t->c = NULL;
		else if (rc == CM_E_DISCONNECTED)
			t->disconnected = true;
	}
}

bool pump(struct tclient **ts, int n, bool (*pred)(void *), void *arg, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	while (!pred(arg)) {
		long long left = end - now_ms();
		if (left <= 0)
			return false;
		dispatch_ready(ts, n, left > 50 ? 50 : (int)left);
	}
	return true;
}

void pump_for(struct tclient **ts, int n, int ms)
{
	long long end = now_ms() + ms;
	while (now_ms() < end)
		dispatch_ready(ts, n, 20);
}

const struct ev *tc_find(const struct tclient *t, enum ev_type type, int from)
{
	for (int i = from; i < t->nevs; i++)
		if (t->evs[i].type == type)
			return &t->evs[i];
	return NULL;
}

int tc_count(const struct tclient *t, enum ev_type type)
{
	int n = 0;
	for (int i = 0; i < t->nevs; i++)
		n += t->evs[i].type == type;
	return n;
}

struct wait_arg {
	struct tclient *t;
	enum ev_type type;
	int count;
};

static bool have_count(void *p)
{
	struct wait_arg *w = p;
	return tc_count(w->t, w->type) >= w->count;
}

const struct ev *tc_wait(struct tclient **ts, int n, struct tclient *t, enum ev_type type,
			 int count, int timeout_ms)
{
	struct wait_arg w = { t, type, count };
	if (!pump(ts, n, have_count, &w, timeout_ms))
		return NULL;
	const struct ev *e = NULL;
	int seen = 0;
	for (int i = 0; i < t->nevs && seen < count; i++) {
		if (t->evs[i].type == type) {
			e = &t->evs[i];
			seen++;
		}
	}
	return e;
}

void tc_addr(const struct tclient *t, uint8_t sel, char *buf)
{
	ck_assert_int_eq(cm_client_address(t->c, sel, buf, CM_ADDR_HEX_LEN + 1), CM_OK);
}

/* ---------------------------------------------------------------- raw framing */

int raw_connect(const struct dmn *d)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, d->sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

void raw_write(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_msg(n > 0, "send(): %s", n < 0 ? strerror(errno) : "0");
		p += n;
		len -= (size_t)n;
	}
}

void raw_send(int fd, const Callmgr__ClientMsg *m)
{
	size_t n = callmgr__client_msg__get_packed_size(m);
	uint8_t *buf = malloc(n + CMC_FRAME_HDR);
	ck_assert_ptr_nonnull(buf);
	cmc_frame_put_len(buf, n);
	callmgr__client_msg__pack(m, buf + CMC_FRAME_HDR);
	raw_write(fd, buf, n + CMC_FRAME_HDR);
	free(buf);
}

void raw_hello(int fd)
{
	Callmgr__ClientMsg m;
	Callmgr__Hello h;
	cmc_hello_msg(&m, &h, "raw-test");
	raw_send(fd, &m);
	bool eof;
	Callmgr__DaemonMsg *r = raw_recv(fd, 5000, &eof);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_HELLO_REPLY);
	ck_assert_uint_eq(r->seq, 1);
	ck_assert_uint_eq(r->hello_reply->version, CMC_PROTO_VERSION);
	callmgr__daemon_msg__free_unpacked(r, NULL);
}

/* Read exactly len octets, or fail on EOF / timeout. */
static int read_exact(int fd, uint8_t *buf, size_t len, long long end)
{
	size_t got = 0;
	while (got < len) {
		long long left = end - now_ms();
		if (left <= 0)
			return -2;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		ssize_t n = recv(fd, buf + got, len - got, 0);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

Callmgr__DaemonMsg *raw_recv(int fd, int timeout_ms, bool *eof)
{
	long long end = now_ms() + timeout_ms;
	uint8_t hdr[CMC_FRAME_HDR];
	*eof = false;
	int rc = read_exact(fd, hdr, sizeof(hdr), end);
	if (rc < 0) {
		*eof = rc == -1;
		return NULL;
	}
	size_t len = cmc_frame_get_len(hdr);
	ck_assert_uint_le(len, CMC_MAX_FRAME);
	uint8_t *buf = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(buf);
	rc = read_exact(fd, buf, len, end);
	ck_assert_int_eq(rc, 0);
	Callmgr__DaemonMsg *m = callmgr__daemon_msg__unpack(NULL, len, buf);
	free(buf);
	ck_assert_ptr_nonnull(m);
	return m;
}

bool raw_wait_eof(int fd, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	uint8_t buf[4096];
	while (now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return true;
	}
	return false;
}

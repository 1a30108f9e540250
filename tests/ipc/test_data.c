/* SPDX-License-Identifier: MIT */
/*
 * The data path in local mode (docs/data-path.md) against a real callmgrd:
 * one root, leaves on the same node, each with its data descriptor.  Each
 * case runs as its own meson test: test_data CASE.
 *
 * Every SDU carries its sequence number, its length and a digest of its
 * contents, so a truncated, corrupt, spliced or misordered one is caught
 * wherever it is read.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "callmgr.pb-c.h"
#include "cm_frame.h"
#include "cm_hello_pb.h"
#include "../ck_run.h"
#include "../sdu_digest.h"
#include "harness.h"

#define MAX_SDU 9180
#define NLEAF 3

static const struct cm_call_params params = { CM_CALL_PARAMS_INIT, .max_sdu = MAX_SDU };

/* ---------------------------------------------------------------- SDUs */

/* The SDU's sequence number if it is whole and intact, else the test fails. */
static uint32_t sdu_check(const uint8_t *b, size_t len, uint32_t want_seq)
{
	uint8_t ref[MAX_SDU];
	if (len < 12) {
		sdu_make(ref, len, want_seq);
		ck_assert_msg(memcmp(ref, b, len) == 0, "short SDU %u differs", want_seq);
		return want_seq;
	}
	uint32_t seq, l, h;
	memcpy(&seq, b, 4);
	memcpy(&l, b + 4, 4);
	memcpy(&h, b + 8, 4);
	ck_assert_msg(l == len, "SDU %u: %zu octets, says %u", seq, len, l);
	ck_assert_msg(h == fnv(b + 12, len - 12), "SDU %u: digest differs", seq);
	sdu_make(ref, len, seq);
	ck_assert_msg(memcmp(ref, b, len) == 0, "SDU %u differs", seq);
	return seq;
}

static void root_send(int fd, size_t len, uint32_t seq)
{
	uint8_t b[MAX_SDU + 1];
	sdu_make(b, len, seq);
	ssize_t n = send(fd, b, len, MSG_NOSIGNAL);
	ck_assert_msg(n == (ssize_t)len, "root send of %zu: %zd (%s)", len, n, strerror(errno));
}

/* One SDU within timeout_ms: its length, 0 at end of file, -1 on timeout. */
static ssize_t leaf_recv(int fd, uint8_t *b, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	ssize_t n = recv(fd, b, MAX_SDU + 1, MSG_DONTWAIT | MSG_TRUNC);
	ck_assert_msg(n >= 0, "leaf recv: %s", strerror(errno));
	ck_assert_msg(n <= MAX_SDU, "leaf got %zd octets, max_sdu is %d", n, MAX_SDU);
	return n;
}

/* The next SDU must be seq with len octets. */
static void expect_sdu(int fd, size_t len, uint32_t seq)
{
	uint8_t b[MAX_SDU + 1];
	ssize_t n = leaf_recv(fd, b, 5000);
	ck_assert_msg(n > 0, "SDU %u: %s", seq, n == 0 ? "end of file" : "nothing in 5 s");
	ck_assert_int_eq(n, (ssize_t)len);
	ck_assert_uint_eq(sdu_check(b, (size_t)n, seq), seq);
}

static void expect_eof(int fd)
{
	uint8_t b[MAX_SDU + 1];
	ssize_t n = leaf_recv(fd, b, 5000);
	ck_assert_msg(n == 0, "expected end of file, got %s", n < 0 ? "nothing" : "an SDU");
}

static void expect_nothing(int fd, int ms)
{
	uint8_t b[MAX_SDU + 1];
	ssize_t n = leaf_recv(fd, b, ms);
	ck_assert_msg(n < 0, "expected nothing, got %s", n == 0 ? "end of file" : "an SDU");
}

/* ---------------------------------------------------------------- a node with leaves */

struct node {
	struct dmn d;
	struct tclient root, leaf[NLEAF];
	struct tclient *ts[NLEAF + 1];
	cm_vc_id vc;
	cm_party_id party[NLEAF]; /* the root's party ids */
	cm_vc_id leaf_vc[NLEAF];  /* each leaf's own VC */
	int root_fd, leaf_fd[NLEAF];
};

static void node_start(struct node *n)
{
	static const char *names[NLEAF] = { "a", "b", "c" };
	memset(n, 0, sizeof(*n));
	dmn_start(&n->d);
	n->ts[0] = &n->root;
	for (int i = 0; i < NLEAF; i++)
		n->ts[i + 1] = &n->leaf[i];
	tc_open(&n->root, &n->d, "root");
	n->root_fd = -1;
	for (int i = 0; i < NLEAF; i++) {
		tc_open(&n->leaf[i], &n->d, names[i]);
		ck_assert_int_eq(cm_register_sap(n->leaf[i].c, (uint8_t)(i + 1), NULL), CM_OK);
		const struct ev *e = tc_wait(n->ts, NLEAF + 1, &n->leaf[i], EV_REGISTER_SAP, 1, 5000);
		ck_assert_msg(e && e->status == CM_OK, "RegisterSap %d", i + 1);
		n->leaf_fd[i] = -1;
	}
}

/* Bring leaf i into the call (MakeCall for the first, else AddParty). */
static void node_join(struct node *n, int i)
{
	char addr[CM_ADDR_HEX_LEN + 1];
	tc_addr(&n->root, (uint8_t)(i + 1), addr);
	enum ev_type t = n->vc ? EV_ADD_PARTY : EV_MAKE_CALL;
	int before = tc_count(&n->root, t);
	if (n->vc)
		ck_assert_int_eq(cm_add_party(n->root.c, n->vc, addr, NULL), CM_OK);
	else
		ck_assert_int_eq(cm_make_call(n->root.c, &params, addr, NULL), CM_OK);
	const struct ev *e = tc_wait(n->ts, NLEAF + 1, &n->root, t, before + 1, 5000);
	ck_assert_msg(e && e->status == CM_OK, "joining leaf %d", i);
	n->vc = e->vc;
	n->party[i] = e->party;
	e = tc_wait(n->ts, NLEAF + 1, &n->leaf[i], EV_CONNECTED, 1, 5000);
	ck_assert_ptr_nonnull(e);
	n->leaf_vc[i] = e->vc;
}

/* cm_data_fd(vc) of t: the completion's status; *fd the descriptor or -1. */
static int data_fd(struct node *n, struct tclient *t, cm_vc_id vc, int *fd)
{
	int before = tc_count(t, EV_DATA_FD);
	ck_assert_int_eq(cm_data_fd(t->c, vc, NULL), CM_OK);
	const struct ev *e = tc_wait(n->ts, NLEAF + 1, t, EV_DATA_FD, before + 1, 5000);
	ck_assert_msg(e != NULL, "%s: no data_fd_complete", t->name);
	ck_assert_uint_eq(e->vc, vc);
	*fd = e->fd;
	ck_assert_msg((e->status == CM_OK) == (e->fd >= 0), "status %d with fd %d", e->status,
		      e->fd);
	return e->status;
}

static void node_fds(struct node *n, int leaves)
{
	ck_assert_int_eq(data_fd(n, &n->root, n->vc, &n->root_fd), CM_OK);
	for (int i = 0; i < leaves; i++)
		ck_assert_int_eq(data_fd(n, &n->leaf[i], n->leaf_vc[i], &n->leaf_fd[i]), CM_OK);
}

static void node_stop(struct node *n)
{
	for (int i = 0; i <= NLEAF; i++)
		tc_close(n->ts[i]);
	if (n->root_fd >= 0)
		close(n->root_fd);
	for (int i = 0; i < NLEAF; i++)
		if (n->leaf_fd[i] >= 0)
			close(n->leaf_fd[i]);
	int rc = dmn_stop(&n->d);
	ck_assert_msg(rc == 0, "callmgrd exited with %d", rc);
}

/* ---------------------------------------------------------------- admin counters */

static Callmgr__DaemonMsg *admin_ask(const struct dmn *d, Callmgr__ClientMsg *m, int body)
{
	int fd = raw_connect(d);
	raw_hello(fd);
	bool eof;
	m->req_id = 7;
	raw_send(fd, m);
	Callmgr__DaemonMsg *r = raw_recv(fd, 5000, &eof);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->body_case, body);
	close(fd);
	return r;
}

/* Party party of vc as cmctl vc show sees it. */
static void party_counters(const struct dmn *d, cm_vc_id vc, cm_party_id party, uint64_t *sdus,
			   uint64_t *lost)
{
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__ShowVc s = CALLMGR__SHOW_VC__INIT;
	s.vc = vc;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_SHOW_VC;
	m.show_vc = &s;
	Callmgr__DaemonMsg *r = admin_ask(d, &m, CALLMGR__DAEMON_MSG__BODY_VC_DETAIL);
	bool found = false;
	for (size_t i = 0; i < r->vc_detail->n_parties; i++) {
		const Callmgr__PartyInfo *p = r->vc_detail->parties[i];
		if (p->party != party)
			continue;
		*sdus = p->data_sdus;
		*lost = p->data_lost;
		found = true;
	}
	callmgr__daemon_msg__free_unpacked(r, NULL);
	ck_assert_msg(found, "party %llu not in vc show", (unsigned long long)party);
}

/* ---------------------------------------------------------------- cases */

/* 1, 1,500 and max_sdu octets arrive byte-exact at every party; the edges refuse. */
START_TEST(sizes)
{
	static struct node n; /* big: the clients record every event */
	node_start(&n);
	for (int i = 0; i < NLEAF; i++)
		node_join(&n, i);
	node_fds(&n, NLEAF);

	static const size_t lens[] = { 1, 1500, MAX_SDU, 64, 9000 };
	for (uint32_t k = 0; k < 5; k++)
		root_send(n.root_fd, lens[k], k);
	for (int i = 0; i < NLEAF; i++)
		for (uint32_t k = 0; k < 5; k++)
			expect_sdu(n.leaf_fd[i], lens[k], k);

	/* over max_sdu, and empty: read and dropped, never delivered */
	uint8_t big[MAX_SDU + 1];
	sdu_make(big, sizeof(big), 99);
	ck_assert_int_eq(send(n.root_fd, big, sizeof(big), MSG_NOSIGNAL), (ssize_t)sizeof(big));
	ck_assert_int_eq(send(n.root_fd, big, 0, MSG_NOSIGNAL), 0);
	root_send(n.root_fd, 20, 5);
	for (int i = 0; i < NLEAF; i++)
		expect_sdu(n.leaf_fd[i], 20, 5);

	/* a leaf's descriptor cannot send */
	errno = 0;
	ck_assert_int_eq(send(n.leaf_fd[0], "x", 1, MSG_NOSIGNAL), -1);
	ck_assert_int_eq(errno, EPIPE);

	/* one descriptor per VC end; only the owner's VC */
	int fd;
	ck_assert_int_eq(data_fd(&n, &n.root, n.vc, &fd), CM_E_BUSY);
	ck_assert_int_eq(data_fd(&n, &n.leaf[1], n.vc, &fd), CM_E_NO_VC);
	ck_assert_int_eq(data_fd(&n, &n.root, n.leaf_vc[1], &fd), CM_E_NO_VC);
	ck_assert_int_eq(data_fd(&n, &n.root, 999999, &fd), CM_E_NO_VC);

	/* the counters: 6 SDUs delivered to every party, nothing lost */
	for (int i = 0; i < NLEAF; i++) {
		uint64_t sdus, lost;
		party_counters(&n.d, n.vc, n.party[i], &sdus, &lost);
		ck_assert_uint_eq(sdus, 6);
		ck_assert_uint_eq(lost, 0);
	}
	node_stop(&n);
}
END_TEST

/*
 * SDUs written before cm_drop_party() reach the party, then end of file;
 * the others keep receiving.
 */
START_TEST(drop)
{
	static struct node n; /* big: the clients record every event */
	node_start(&n);
	for (int i = 0; i < NLEAF; i++)
		node_join(&n, i);
	node_fds(&n, NLEAF);

	/*
	 * The daemon is stopped while the root writes and asks for the drop,
	 * so both wait for it together, and there are more SDUs than it
	 * reads from a root in one go: without the drain before the
	 * DropParty, b would lose some or all of them.
	 */
	enum { N = 100 }; /* within the root socket's buffer, over DATAIO_ROOT_BUDGET */
	kill(n.d.pid, SIGSTOP);
	for (uint32_t k = 0; k < N; k++)
		root_send(n.root_fd, 200, k);
	ck_assert_int_eq(cm_drop_party(n.root.c, n.vc, n.party[1], NULL, 0, NULL), CM_OK);
	kill(n.d.pid, SIGCONT);
	const struct ev *e = tc_wait(n.ts, NLEAF + 1, &n.leaf[1], EV_INCOMING_CLOSE, 1, 5000);
	ck_assert_ptr_nonnull(e);
	for (uint32_t k = 0; k < N; k++)
		expect_sdu(n.leaf_fd[1], 200, k);
	expect_eof(n.leaf_fd[1]);
	e = tc_wait(n.ts, NLEAF + 1, &n.root, EV_DROP_PARTY, 1, 5000);
	ck_assert_msg(e && e->status == CM_OK, "DropPartyComplete");

	for (uint32_t k = N; k < N + 10; k++)
		root_send(n.root_fd, 100, k);
	for (int i = 0; i < NLEAF; i += 2) {
		for (uint32_t k = 0; k < N; k++)
			expect_sdu(n.leaf_fd[i], 200, k);
		for (uint32_t k = N; k < N + 10; k++)
			expect_sdu(n.leaf_fd[i], 100, k);
	}
	expect_eof(n.leaf_fd[1]); /* still: nothing after the end */
	node_stop(&n);
}
END_TEST

static void fd_on_connect(struct tclient *t, const struct ev *e)
{
	/* as early as a leaf can ask */
	if (e->type == EV_CONNECTED)
		ck_assert_int_eq(cm_data_fd(t->c, e->vc, NULL), CM_OK);
}

/*
 * A party added later receives only what the root wrote after
 * cm_add_party(); CloseCall gives end of file everywhere and the root's
 * descriptor refuses sends with EPIPE.
 */
START_TEST(late_join_and_close)
{
	static struct node n; /* big: the clients record every event */
	node_start(&n);
	node_join(&n, 0);
	node_join(&n, 1);
	node_fds(&n, 2);
	n.leaf[2].hook = fd_on_connect;

	for (uint32_t k = 0; k < 30; k++)
		root_send(n.root_fd, 700, k);
	node_join(&n, 2);
	const struct ev *e = tc_wait(n.ts, NLEAF + 1, &n.leaf[2], EV_DATA_FD, 1, 5000);
	ck_assert_msg(e && e->status == CM_OK, "leaf c's descriptor");
	n.leaf_fd[2] = e->fd;
	for (uint32_t k = 30; k < 40; k++)
		root_send(n.root_fd, 700, k);
	expect_sdu(n.leaf_fd[2], 700, 30); /* nothing from before the AddParty */
	for (int i = 0; i < 2; i++)
		for (uint32_t k = 0; k < 40; k++)
			expect_sdu(n.leaf_fd[i], 700, k);

	/*
	 * Force-close: every party goes, every descriptor ends, behind what
	 * the root wrote before (the daemon stopped so that the SDUs and the
	 * request wait for it together, as in "drop").
	 */
	kill(n.d.pid, SIGSTOP);
	for (uint32_t k = 40; k < 140; k++)
		root_send(n.root_fd, 10, k);
	ck_assert_int_eq(cm_close_call(n.root.c, n.vc, 0, NULL, 0, CM_CLOSE_FORCE, NULL), CM_OK);
	kill(n.d.pid, SIGCONT);
	e = tc_wait(n.ts, NLEAF + 1, &n.root, EV_CLOSE_CALL, 1, 5000);
	ck_assert_msg(e && e->status == CM_OK, "CloseCallComplete");
	for (uint32_t k = 31; k < 40; k++)
		expect_sdu(n.leaf_fd[2], 700, k);
	for (int i = 0; i < NLEAF; i++) {
		for (uint32_t k = 40; k < 140; k++)
			expect_sdu(n.leaf_fd[i], 10, k);
		expect_eof(n.leaf_fd[i]);
	}
	errno = 0;
	ck_assert_int_eq(send(n.root_fd, "x", 1, MSG_NOSIGNAL), -1);
	ck_assert_int_eq(errno, EPIPE);
	expect_eof(n.root_fd);
	/* and a VC that is gone has no descriptor to give */
	int fd;
	ck_assert_int_eq(data_fd(&n, &n.root, n.vc, &fd), CM_E_NO_VC);
	node_stop(&n);
}
END_TEST

/* A leaf that does not read loses SDUs, counted; nobody else waits for it. */
START_TEST(slow_leaf)
{
	static struct node n; /* big: the clients record every event */
	node_start(&n);
	node_join(&n, 0);
	node_join(&n, 1);
	node_fds(&n, 2);
	enum { N = 2000 };
	for (uint32_t k = 0; k < N; k++) {
		root_send(n.root_fd, 1500, k);
		expect_sdu(n.leaf_fd[0], 1500, k); /* a keeps up; b never reads */
	}
	uint64_t sdus, lost;
	party_counters(&n.d, n.vc, n.party[0], &sdus, &lost);
	ck_assert_uint_eq(sdus, N);
	ck_assert_uint_eq(lost, 0);
	party_counters(&n.d, n.vc, n.party[1], &sdus, &lost);
	ck_assert_uint_eq(sdus + lost, N);
	ck_assert_uint_gt(lost, 0);
	ck_assert_uint_gt(sdus, 0);
	/* what b holds is the first SDUs, whole and in order */
	for (uint32_t k = 0; k < sdus; k++)
		expect_sdu(n.leaf_fd[1], 1500, k);
	expect_nothing(n.leaf_fd[1], 100);
	node_stop(&n);
}
END_TEST

/* A leaf client killed mid-stream harms no one. */
START_TEST(leaf_killed)
{
	static struct node n; /* big: the clients record every event */
	node_start(&n);
	node_join(&n, 0);
	node_join(&n, 1);
	node_join(&n, 2);
	node_fds(&n, NLEAF);
	/* b lives in a child that reads its descriptor until killed */
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		close(p[0]);
		uint8_t b[MAX_SDU + 1];
		for (;;) {
			ssize_t r = recv(n.leaf_fd[1], b, sizeof(b), 0);
			if (r <= 0)
				_exit(0);
			(void)!write(p[1], "r", 1);
		}
	}
	close(p[1]);
	close(n.leaf_fd[1]);
	n.leaf_fd[1] = -1;
	for (uint32_t k = 0; k < 400; k++) {
		if (k == 200) {
			char c;
			ck_assert_int_eq(read(p[0], &c, 1), 1); /* it was reading */
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
			tc_close(&n.leaf[1]); /* and its session goes */
		}
		root_send(n.root_fd, 1000, k);
		expect_sdu(n.leaf_fd[0], 1000, k);
		expect_sdu(n.leaf_fd[2], 1000, k);
	}
	close(p[0]);
	/* the root hears of b's end; a and c go on */
	ck_assert_ptr_nonnull(tc_wait(n.ts, NLEAF + 1, &n.root, EV_INCOMING_DROP, 1, 5000));
	root_send(n.root_fd, 1, 400);
	expect_sdu(n.leaf_fd[0], 1, 400);
	expect_sdu(n.leaf_fd[2], 1, 400);
	node_stop(&n);
}
END_TEST

/* The daemon dies: every data descriptor reads end of file. */
START_TEST(daemon_gone)
{
	static struct node n; /* big: the clients record every event */
	node_start(&n);
	node_join(&n, 0);
	node_fds(&n, 1);
	root_send(n.root_fd, 5, 0);
	expect_sdu(n.leaf_fd[0], 5, 0);
	dmn_kill(&n.d);
	expect_eof(n.leaf_fd[0]);
	expect_eof(n.root_fd);
	close(n.leaf_fd[0]);
	close(n.root_fd);
	for (int i = 0; i <= NLEAF; i++)
		tc_close(n.ts[i]);
}
END_TEST

int main(int argc, char **argv)
{
	const struct ck_named cases[] = {
#define CASE(name, timeout) { #name, name, timeout },
#include "data_cases.def"
#undef CASE
	};
	return ck_run_named("data", argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}

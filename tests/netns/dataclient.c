/* SPDX-License-Identifier: MIT */
/*
 * dataclient: a root or a leaf of the data path for the netns tests.
 *
 *   dataclient -s SOCK leaf SEL [stall K]
 *     registers SEL, accepts the call offered, asks for the data
 *     descriptor and reads it to end of file.  Prints "registered" once
 *     SEL is its (a call before that is refused), "connected VC" once it
 *     holds the descriptor of VC, "sdu SEQ LEN" per intact SDU, "bad ..." per
 *     damaged one (truncated, corrupt, spliced: the digest inside each SDU
 *     says), "eof" at end of file; exits 1 if any was bad.  An SDU too
 *     short for the digest (under 12 octets) is matched against the
 *     pattern of the sequence number after the last one seen; after a loss
 *     it cannot be told and is printed as "short".  With stall K it stops
 *     reading the descriptor after K SDUs ("stalled"), as a client that
 *     falls behind, until a line comes on its standard input ("resumed").
 *
 *   dataclient -s SOCK root N SIZES ADDR [ADDR...] [-- OPTIONS]
 *     makes a call to the first ADDR, adds the others, then sends N SDUs
 *     whose lengths cycle through SIZES (e.g. 1,1500,9180), each carrying
 *     its sequence number, length and digest, and closes the call.
 *     Options after the addresses:
 *       drop K I    after K SDUs drop the I-th party (0-based) and wait
 *       add K ADDR  after K SDUs add a party at ADDR and wait
 *       gap MS      sleep MS between SDUs
 *       pause K     after K SDUs print "paused K" and wait for a line on
 *                   standard input before sending the rest
 *       hold        once all are sent, wait for a line (or end of file) on
 *                   standard input before closing, so the counters of the
 *                   live call can be read
 *     Prints "ready" once it holds its descriptor, then waits for a line on
 *     its standard input (the leaves' descriptors are asked for at their
 *     own pace, and a leaf without one receives nothing), then sends and
 *     prints "dropped I", "added", "sent N", "closed".
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "callmgr/client.h"
#include "../sdu_digest.h"

#define MAX_SDU 65535
#define MAX_PARTIES 16

static cm_client *cl;
static int data_fd = -1;
static int status_seen = 1; /* the last completion's status; 1 while pending */
static cm_vc_id vc;
static cm_party_id parties[MAX_PARTIES];
static int nparties;

static void die(const char *what, int st)
{
	printf("error %s: %s\n", what, st < 0 ? cm_strerror(st) : strerror(errno));
	fflush(stdout);
	exit(2);
}

static void on_make_call(cm_client *c, int st, cm_vc_id v, cm_party_id p, void *ctx)
{
	status_seen = st;
	vc = v;
	parties[nparties++] = p;
}

static void on_add_party(cm_client *c, int st, cm_vc_id v, cm_party_id p, void *ctx)
{
	status_seen = st;
	if (st == CM_OK && nparties < MAX_PARTIES)
		parties[nparties++] = p;
}

static void on_done(cm_client *c, int st, cm_vc_id v, cm_party_id p, void *ctx)
{
	status_seen = st;
}

static void on_close(cm_client *c, int st, cm_vc_id v, void *ctx)
{
	status_seen = st;
}

static void on_sap(cm_client *c, int st, uint8_t sel, void *ctx)
{
	status_seen = st;
}

static void on_incoming(cm_client *c, cm_vc_id v, cm_party_id p, const char *caller,
			const struct cm_call_params *params)
{
	cm_accept_call(c, v, p);
}

static void on_connected(cm_client *c, cm_vc_id v, cm_party_id p)
{
	vc = v;
	parties[0] = p;
	int rc = cm_data_fd(c, v, NULL);
	if (rc != CM_OK)
		die("cm_data_fd", rc);
}

static void on_data_fd(cm_client *c, int st, cm_vc_id v, int fd, void *ctx)
{
	if (st != CM_OK)
		die("data descriptor", st);
	data_fd = fd;
}

static void on_incoming_close(cm_client *c, cm_vc_id v, int cause, const void *d, size_t len)
{
	cm_close_call(c, v, parties[0], NULL, 0, 0, NULL);
}

static void on_incoming_drop(cm_client *c, cm_vc_id v, cm_party_id p, int cause, const void *d,
			     size_t len)
{
	cm_drop_party(c, v, p, NULL, 0, NULL);
}

static const struct cm_client_ops ops = {
	CM_CLIENT_OPS_INIT,
	.register_sap_complete = on_sap,
	.make_call_complete = on_make_call,
	.add_party_complete = on_add_party,
	.drop_party_complete = on_done,
	.close_call_complete = on_close,
	.incoming_drop_party = on_incoming_drop,
	.incoming_close_call = on_incoming_close,
	.incoming_call = on_incoming,
	.call_connected = on_connected,
	.data_fd_complete = on_data_fd,
};

/* Dispatch until the pending request completes; its status. */
static int await(const char *what)
{
	for (int i = 0; i < 3000 && status_seen == 1; i++) {
		struct pollfd p = { .fd = cm_client_fd(cl), .events = POLLIN };
		poll(&p, 1, 10);
		if (cm_client_dispatch(cl) != CM_OK)
			die(what, CM_E_DISCONNECTED);
	}
	if (status_seen == 1)
		die(what, CM_E_TIMEOUT);
	int st = status_seen;
	status_seen = 1;
	if (st != CM_OK)
		die(what, st);
	return st;
}

/* Dispatch the client's events until a line (or end of file) on stdin. */
static void wait_for_line(void)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN },
				       { .fd = cm_client_fd(cl), .events = POLLIN } };
		poll(p, 2, 1000);
		if (p[1].revents && cm_client_dispatch(cl) != CM_OK)
			die("waiting for a line", CM_E_DISCONNECTED);
		if (p[0].revents) {
			char line[16];
			(void)fgets(line, sizeof(line), stdin);
			return;
		}
	}
}

static int leaf(unsigned sel, long stall_at)
{
	int rc = cm_register_sap(cl, (uint8_t)sel, NULL);
	if (rc != CM_OK)
		die("register", rc);
	await("register");
	printf("registered\n");
	fflush(stdout);
	while (data_fd < 0) {
		struct pollfd p = { .fd = cm_client_fd(cl), .events = POLLIN };
		poll(&p, 1, 100);
		if (cm_client_dispatch(cl) != CM_OK)
			die("waiting for the call", CM_E_DISCONNECTED);
	}
	printf("connected %llu\n", (unsigned long long)vc);
	fflush(stdout);
	static uint8_t b[MAX_SDU + 1];
	int bad = 0;
	uint32_t next_seq = 0;
	long got = 0; /* SDUs read, whole or not */
	for (;;) {
		if (got == stall_at) {
			stall_at = -1;
			printf("stalled\n");
			fflush(stdout);
			wait_for_line();
			printf("resumed\n");
			fflush(stdout);
		}
		struct pollfd p[2] = { { .fd = data_fd, .events = POLLIN },
				       { .fd = cm_client_fd(cl), .events = POLLIN } };
		poll(p, 2, 1000);
		if (p[1].revents)
			cm_client_dispatch(cl);
		if (!p[0].revents)
			continue;
		ssize_t n = recv(data_fd, b, sizeof(b), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		got++;
		static uint8_t ref[MAX_SDU + 1];
		if (n < 12) {
			/* too short for the header: the pattern of the next sequence number */
			sdu_make(ref, (size_t)n, next_seq);
			if (memcmp(ref, b, (size_t)n) == 0)
				printf("sdu %u %zd\n", next_seq++, n);
			else
				printf("short %zd octets after %u\n", n, next_seq); /* after a loss */
			fflush(stdout);
			continue;
		}
		uint32_t seq, l, h;
		memcpy(&seq, b, 4);
		memcpy(&l, b + 4, 4);
		memcpy(&h, b + 8, 4);
		bool ok = l == (uint32_t)n && h == fnv(b + 12, (size_t)n - 12);
		if (ok) {
			sdu_make(ref, (size_t)n, seq);
			ok = memcmp(ref, b, (size_t)n) == 0;
		}
		if (ok) {
			printf("sdu %u %zd\n", seq, n);
			next_seq = seq + 1;
		} else {
			printf("bad %zd octets\n", n);
			bad++;
		}
		fflush(stdout);
	}
	printf("eof\n");
	fflush(stdout);
	/* answer the end of the call, so the daemon is not left waiting */
	for (int i = 0; i < 50; i++) {
		struct pollfd p = { .fd = cm_client_fd(cl), .events = POLLIN };
		poll(&p, 1, 20);
		cm_client_dispatch(cl);
	}
	return bad ? 1 : 0;
}

static int root(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "root N SIZES ADDR...\n");
		return 2;
	}
	unsigned n = (unsigned)strtoul(argv[0], NULL, 0);
	size_t sizes[16];
	int nsizes = 0;
	for (char *s = strtok(argv[1], ","); s && nsizes < 16; s = strtok(NULL, ","))
		sizes[nsizes++] = strtoul(s, NULL, 0);
	argc -= 2;
	argv += 2;
	int naddr = 0;
	while (naddr < argc && strcmp(argv[naddr], "--") != 0)
		naddr++;
	unsigned drop_at = ~0u, add_at = ~0u, gap_ms = 0, pause_at = ~0u;
	bool hold = false;
	int drop_idx = 0;
	const char *add_addr = NULL;
	for (int i = naddr + 1; i < argc; i++) {
		if (!strcmp(argv[i], "drop") && i + 2 < argc) {
			drop_at = (unsigned)atoi(argv[++i]);
			drop_idx = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "add") && i + 2 < argc) {
			add_at = (unsigned)atoi(argv[++i]);
			add_addr = argv[++i];
		} else if (!strcmp(argv[i], "gap") && i + 1 < argc) {
			gap_ms = (unsigned)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "pause") && i + 1 < argc) {
			pause_at = (unsigned)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "hold")) {
			hold = true;
		}
	}
	struct cm_call_params params = { CM_CALL_PARAMS_INIT, .max_sdu = 9180 };
	for (int i = 0; i < nsizes; i++)
		if (sizes[i] > params.max_sdu)
			params.max_sdu = (uint32_t)sizes[i];
	int rc = cm_make_call(cl, &params, argv[0], NULL);
	if (rc != CM_OK)
		die("make call", rc);
	await("make call");
	for (int i = 1; i < naddr; i++) {
		if ((rc = cm_add_party(cl, vc, argv[i], NULL)) != CM_OK)
			die("add party", rc);
		await("add party");
	}
	if ((rc = cm_data_fd(cl, vc, NULL)) != CM_OK)
		die("cm_data_fd", rc);
	while (data_fd < 0) {
		struct pollfd p = { .fd = cm_client_fd(cl), .events = POLLIN };
		poll(&p, 1, 100);
		if (cm_client_dispatch(cl) != CM_OK)
			die("data descriptor", CM_E_DISCONNECTED);
	}
	printf("ready\n");
	fflush(stdout);
	char go[16];
	if (!fgets(go, sizeof(go), stdin))
		die("waiting for the go", 0);
	static uint8_t b[MAX_SDU];
	for (unsigned k = 0; k < n; k++) {
		if (k == drop_at) {
			if ((rc = cm_drop_party(cl, vc, parties[drop_idx], NULL, 0, NULL)) != CM_OK)
				die("drop party", rc);
			await("drop party");
			printf("dropped %d\n", drop_idx);
			fflush(stdout);
		}
		if (k == pause_at) {
			printf("paused %u\n", k);
			fflush(stdout);
			wait_for_line();
		}
		if (k == add_at) {
			if ((rc = cm_add_party(cl, vc, add_addr, NULL)) != CM_OK)
				die("add party", rc);
			await("add party");
			printf("added\n");
			fflush(stdout);
		}
		size_t len = sizes[k % (unsigned)nsizes];
		sdu_make(b, len, k);
		if (send(data_fd, b, len, MSG_NOSIGNAL) != (ssize_t)len)
			die("send", 0);
		cm_client_dispatch(cl);
		if (gap_ms)
			usleep(gap_ms * 1000u);
	}
	printf("sent %u\n", n);
	fflush(stdout);
	if (hold)
		wait_for_line();
	if ((rc = cm_close_call(cl, vc, 0, NULL, 0, CM_CLOSE_FORCE, NULL)) != CM_OK)
		die("close", rc);
	await("close");
	printf("closed\n");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	if (argc > 2 && !strcmp(argv[1], "-s")) {
		sock = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: dataclient -s SOCK leaf SEL [stall K] | root N SIZES ADDR...\n");
		return 2;
	}
	int err;
	cl = cm_client_open(sock, &ops, NULL, &err);
	if (!cl)
		die("open", err);
	long stall_at = argc > 4 && !strcmp(argv[3], "stall") ? atol(argv[4]) : -1;
	int rc = !strcmp(argv[1], "leaf") ? leaf((unsigned)atoi(argv[2]), stall_at)
					  : root(argc - 2, argv + 2);
	cm_client_close(cl);
	return rc;
}

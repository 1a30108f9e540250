/* SPDX-License-Identifier: MIT */
/*
 * burst: bulk work issued at once, for the netns suite and bench/run.sh
 * (issue 11).  Every request is issued before any answer is read.
 *
 *   burst [-s SOCKET] root AESA VCS PARTIES DATA_LEN END
 *       VCS MakeCall to AESA at once, then VCS x (PARTIES - 1) AddParty to
 *       AESA at once, then the teardown END:
 *         drop   DropParty of every party but the last of each VC, at
 *                once, each with DATA_LEN octets of data, then CloseCall
 *                with the last party (with data);
 *         force  CloseCall with CM_CLOSE_FORCE of every VC at once;
 *         hold   print "held", then wait: the network (the leaf node
 *                killed, this node's daemon stopped) ends the calls; each
 *                IncomingCloseCall / IncomingDropParty is answered.
 *       Then the client must have got exactly one completion per request,
 *       every one CM_OK, and (hold) one IncomingCloseCall per VC.
 *   burst [-s SOCKET] leaf SEL EXPECT
 *       Register SEL, accept every call, answer every IncomingCloseCall
 *       with CloseCall; check the data of each (byte-exact pattern, each
 *       sequence number once); done after EXPECT answered closes, or when
 *       the daemon goes.
 *
 * Prints phase lines "phase NAME ms=N" and a final
 *   summary requests=N completions=N ok=N bad=N duplicates=N events=N
 *           data_bad=N disconnected=0|1
 * and exits 0 only when everything held.
 */
#include <callmgr/client.h>

#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct req {
	unsigned char done;
	int vc_index;
};

static struct {
	bool leaf;
	long requests, completions, ok, bad, duplicates, events, data_bad, refused;
	bool disconnected;
	/* root */
	int vcs, parties;
	size_t data_len;
	cm_vc_id *vc;            /* per VC index */
	cm_party_id *party;      /* VCS x PARTIES: [vc * parties + i] */
	int *nparty;
	struct req *reqs;
	long nreqs, capreqs;
	unsigned char *vc_closed_in; /* IncomingCloseCall per VC index */
	/* leaf */
	long expect, closes_answered;
	unsigned char *seen_seq;
	long max_seq;
	bool want_seen;
} B;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p) {
		perror("calloc");
		exit(2);
	}
	return p;
}

/* The data of drop number seq: its number, then a pattern of it. */
static void pattern(uint32_t seq, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 31u + i * 7u + 1u);
	if (len >= 4) {
		buf[0] = (uint8_t)(seq >> 24);
		buf[1] = (uint8_t)(seq >> 16);
		buf[2] = (uint8_t)(seq >> 8);
		buf[3] = (uint8_t)seq;
	}
}

/* A request context: an index into B.reqs, encoded in the pointer. */
static void *new_req(int vc_index)
{
	if (B.nreqs == B.capreqs) {
		B.capreqs = B.capreqs ? B.capreqs * 2 : 1024;
		B.reqs = realloc(B.reqs, (size_t)B.capreqs * sizeof(*B.reqs));
		if (!B.reqs) {
			perror("realloc");
			exit(2);
		}
	}
	B.reqs[B.nreqs] = (struct req){ 0, vc_index };
	return (void *)(uintptr_t)(B.nreqs++ + 1);
}

static void issued(int rc)
{
	if (rc == CM_OK) {
		B.requests++;
	} else {
		B.refused++;
		printf("refused: %s\n", cm_strerror(rc));
		B.nreqs--; /* its context is not used */
	}
}

/* Count one completion; the request's VC index, or -1 for a duplicate. */
static int done(void *ctx, int status)
{
	long i = (long)(uintptr_t)ctx - 1;
	if (i < 0 || i >= B.nreqs) {
		B.bad++;
		return -1;
	}
	if (B.reqs[i].done++) {
		B.duplicates++;
		printf("duplicate completion of request %ld\n", i);
		return -1;
	}
	B.completions++;
	if (status == CM_OK) {
		B.ok++;
	} else {
		B.bad++;
		if (B.bad <= 10)
			printf("request %ld: %s\n", i, cm_strerror(status));
	}
	return B.reqs[i].vc_index;
}

static void on_make(cm_client *c, int status, cm_vc_id vc, cm_party_id p, void *ctx)
{
	int k = done(ctx, status);
	if (k >= 0 && status == CM_OK) {
		B.vc[k] = vc;
		B.party[(size_t)k * (size_t)B.parties] = p;
		B.nparty[k] = 1;
	}
}

static void on_add(cm_client *c, int status, cm_vc_id vc, cm_party_id p, void *ctx)
{
	int k = done(ctx, status);
	if (k >= 0 && status == CM_OK && B.nparty[k] < B.parties)
		B.party[(size_t)k * (size_t)B.parties + (size_t)B.nparty[k]++] = p;
}

static void on_drop(cm_client *c, int status, cm_vc_id vc, cm_party_id p, void *ctx)
{
	if (ctx)
		done(ctx, status);
	else if (status != CM_OK && ++B.bad <= 5) /* an answer of ours */
		printf("answer on VC %" PRIu64 " party %" PRIu64 ": %s\n", vc, p,
		       cm_strerror(status));
}

static void on_close(cm_client *c, int status, cm_vc_id vc, void *ctx)
{
	if (ctx) {
		done(ctx, status);
		return;
	}
	if (status != CM_OK) {
		if (++B.bad <= 5)
			printf("answer on VC %" PRIu64 ": %s\n", vc, cm_strerror(status));
	} else if (B.leaf) {
		B.closes_answered++;
	}
}

static int vc_index(cm_vc_id vc)
{
	for (int k = 0; k < B.vcs; k++)
		if (B.vc[k] == vc)
			return k;
	return -1;
}

static void on_incoming_drop(cm_client *c, cm_vc_id vc, cm_party_id party, int cause,
			     const void *data, size_t len)
{
	B.events++;
	cm_drop_party(c, vc, party, NULL, 0, NULL);
}

static bool data_ok(const void *data, size_t len)
{
	if (len < 4)
		return len == 0;
	const uint8_t *d = data;
	uint32_t seq = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	uint8_t want[CM_MAX_DATA];
	if (len > sizeof(want))
		return false;
	pattern(seq, want, len);
	if (memcmp(want, data, len) != 0)
		return false;
	if (B.leaf && B.seen_seq) {
		if (seq > (uint32_t)B.max_seq || B.seen_seq[seq]++)
			return false;
	}
	return true;
}

static void on_incoming_close(cm_client *c, cm_vc_id vc, int cause, const void *data,
			      size_t len)
{
	B.events++;
	if (B.leaf) {
		if (B.want_seen && !data_ok(data, len)) {
			B.data_bad++;
			if (B.data_bad <= 5)
				printf("leaf: bad data on VC %" PRIu64 " (%zu octets)\n", vc, len);
		}
		/* the leaf VC's one party is named by the offer; force names none */
		cm_close_call(c, vc, 0, NULL, 0, CM_CLOSE_FORCE, NULL);
		return;
	}
	int k = vc_index(vc);
	if (k >= 0 && B.vc_closed_in[k]++)
		B.duplicates++;
	cm_close_call(c, vc, 0, NULL, 0, CM_CLOSE_FORCE, NULL);
}

static void on_incoming_call(cm_client *c, cm_vc_id vc, cm_party_id party, const char *caller,
			     const struct cm_call_params *p)
{
	B.events++;
	int rc = cm_accept_call(c, vc, party);
	if (rc != CM_OK)
		printf("accept: %s\n", cm_strerror(rc));
}

static void on_sap(cm_client *c, int status, uint8_t sel, void *ctx)
{
	if (status != CM_OK) {
		printf("sap: %s\n", cm_strerror(status));
		B.bad++;
	}
}

static const struct cm_client_ops ops = {
	CM_CLIENT_OPS_INIT,
	.register_sap_complete = on_sap,
	.make_call_complete = on_make,
	.add_party_complete = on_add,
	.drop_party_complete = on_drop,
	.close_call_complete = on_close,
	.incoming_drop_party = on_incoming_drop,
	.incoming_close_call = on_incoming_close,
	.incoming_call = on_incoming_call,
};

/* Dispatch until pred() or the daemon goes; false on a timeout. */
static bool run_until(cm_client *c, bool (*pred)(void), int timeout_ms, bool watch_stdin)
{
	int64_t end = now_ms() + timeout_ms;
	while (!pred()) {
		int left = (int)(end - now_ms());
		if (left <= 0)
			return false;
		struct pollfd pfd[2] = { { .fd = cm_client_fd(c), .events = POLLIN },
					 { .fd = watch_stdin ? 0 : -1, .events = POLLIN } };
		poll(pfd, 2, left < 100 ? left : 100);
		if (cm_client_dispatch(c) == CM_E_DISCONNECTED) {
			B.disconnected = true;
			return pred();
		}
		if (watch_stdin && (pfd[1].revents & (POLLIN | POLLHUP))) {
			char buf[256];
			if (read(0, buf, sizeof(buf)) <= 0)
				return true;
		}
	}
	return true;
}

static bool all_done(void)
{
	return B.completions + B.duplicates >= B.requests;
}

static bool all_closed_in(void)
{
	for (int k = 0; k < B.vcs; k++)
		if (!B.vc_closed_in[k])
			return false;
	return all_done();
}

static bool leaf_done(void)
{
	return B.expect > 0 && B.closes_answered >= B.expect;
}

static void phase(const char *name, int64_t t0)
{
	printf("phase %s ms=%" PRId64 " requests=%ld ok=%ld bad=%ld\n", name, now_ms() - t0,
	       B.requests, B.ok, B.bad);
	fflush(stdout);
}

static int summary(void)
{
	printf("summary requests=%ld completions=%ld ok=%ld bad=%ld duplicates=%ld events=%ld "
	       "data_bad=%ld refused=%ld disconnected=%d\n",
	       B.requests, B.completions, B.ok, B.bad, B.duplicates, B.events, B.data_bad,
	       B.refused, B.disconnected);
	fflush(stdout);
	return B.requests == B.completions && B.requests == B.ok && !B.bad && !B.duplicates &&
			       !B.data_bad && !B.refused && !B.disconnected
		       ? 0
		       : 1;
}

static int root(cm_client *c, const char *aesa, const char *end)
{
	struct cm_call_params params = { CM_CALL_PARAMS_INIT, .peak_kbps = 100, .max_sdu = 1500 };
	B.vc = xcalloc((size_t)B.vcs, sizeof(*B.vc));
	B.nparty = xcalloc((size_t)B.vcs, sizeof(*B.nparty));
	B.party = xcalloc((size_t)B.vcs * (size_t)B.parties, sizeof(*B.party));
	B.vc_closed_in = xcalloc((size_t)B.vcs, 1);
	int64_t t0 = now_ms();
	for (int k = 0; k < B.vcs; k++)
		issued(cm_make_call(c, &params, aesa, new_req(k)));
	if (!run_until(c, all_done, 120000, false))
		return summary();
	phase("make", t0);
	t0 = now_ms();
	for (int i = 1; i < B.parties; i++)
		for (int k = 0; k < B.vcs; k++)
			if (B.vc[k])
				issued(cm_add_party(c, B.vc[k], aesa, new_req(k)));
	if (!run_until(c, all_done, 300000, false))
		return summary();
	phase("add", t0);
	uint8_t data[CM_MAX_DATA];
	size_t dl = B.data_len > CM_MAX_DATA ? CM_MAX_DATA : B.data_len;
	uint32_t seq = 0;
	t0 = now_ms();
	if (strcmp(end, "drop") == 0) {
		for (int k = 0; k < B.vcs; k++)
			for (int i = 0; i + 1 < B.nparty[k]; i++) {
				pattern(seq++, data, dl);
				issued(cm_drop_party(c, B.vc[k],
						     B.party[(size_t)k * (size_t)B.parties + (size_t)i],
						     dl ? data : NULL, dl, new_req(k)));
			}
		if (!run_until(c, all_done, 300000, false))
			return summary();
		phase("drop", t0);
		t0 = now_ms();
		for (int k = 0; k < B.vcs; k++) {
			if (!B.nparty[k])
				continue;
			pattern(seq++, data, dl);
			issued(cm_close_call(c, B.vc[k],
					     B.party[(size_t)k * (size_t)B.parties +
						     (size_t)B.nparty[k] - 1],
					     dl ? data : NULL, dl, 0, new_req(k)));
		}
		run_until(c, all_done, 300000, false);
		phase("close", t0);
	} else if (strcmp(end, "force") == 0) {
		for (int k = 0; k < B.vcs; k++)
			if (B.vc[k])
				issued(cm_close_call(c, B.vc[k], 0, NULL, 0, CM_CLOSE_FORCE,
						     new_req(k)));
		run_until(c, all_done, 300000, false);
		phase("force", t0);
	} else {
		printf("held\n");
		fflush(stdout);
		const char *hold_ms = getenv("BURST_HOLD_MS");
		if (!run_until(c, all_closed_in, hold_ms ? atoi(hold_ms) : 600000, false))
			printf("not every VC was closed by the network\n");
		for (int k = 0; k < B.vcs; k++)
			if (!B.vc_closed_in[k])
				B.bad++;
		/* the answers' completions */
		run_until(c, all_done, 5000, false);
		int64_t stop = now_ms() + 500;
		while (now_ms() < stop && cm_client_dispatch(c) != CM_E_DISCONNECTED)
			usleep(10000);
		phase("held", t0);
	}
	return summary();
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	int o;
	while ((o = getopt(argc, argv, "s:")) != -1) {
		if (o == 's')
			sock = optarg;
		else
			return 2;
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	int err;
	B.leaf = strcmp(argv[0], "leaf") == 0;
	cm_client *c = cm_client_open(sock, &ops, NULL, &err);
	if (!c) {
		printf("open: %s\n", cm_strerror(err));
		return 1;
	}
	if (B.leaf) {
		if (argc < 3)
			goto usage;
		B.expect = atol(argv[2]);
		B.max_seq = B.expect + 1000000;
		B.seen_seq = xcalloc((size_t)B.max_seq + 1, 1);
		B.want_seen = true;
		if (cm_register_sap(c, (uint8_t)atoi(argv[1]), NULL) != CM_OK)
			return 1;
		printf("ready\n");
		run_until(c, leaf_done, 24 * 3600 * 1000, false);
		/* the answers' completions */
		int64_t stop = now_ms() + 300;
		while (now_ms() < stop && cm_client_dispatch(c) != CM_E_DISCONNECTED)
			usleep(10000);
		printf("leaf closes=%ld events=%ld\n", B.closes_answered, B.events);
		int rc = summary();
		cm_client_close(c);
		return rc || (B.expect > 0 && B.closes_answered < B.expect);
	}
	if (argc < 6 || strcmp(argv[0], "root") != 0)
		goto usage;
	B.vcs = atoi(argv[2]);
	B.parties = atoi(argv[3]);
	B.data_len = (size_t)atol(argv[4]);
	if (B.vcs < 1 || B.parties < 1)
		goto usage;
	int rc = root(c, argv[1], argv[5]);
	cm_client_close(c);
	return rc;
usage:
	fprintf(stderr, "usage: burst [-s SOCKET] root AESA VCS PARTIES DATA_LEN drop|force|hold\n"
			"       burst [-s SOCKET] leaf SEL EXPECT\n");
	return 2;
}

/* SPDX-License-Identifier: MIT */
/*
 * root: the smallest multipoint caller.  Calls the first address, adds the
 * others, sends a counted stream of COUNT SDUs (default 5) on the call's
 * data descriptor to every party, then closes the call with CM_CLOSE_FORCE
 * (the daemon drops the remaining parties for it, after the SDUs).  Exits 0
 * once CloseCall completed.  With -t MS an add that has not completed after
 * MS milliseconds is cancelled: cm_add_party_id() told the party's id when
 * it was asked for, so cm_drop_party() can name it (the add completes
 * CM_E_CLOSING).
 *
 *   root [-s SOCKET] [-n COUNT] [-t MS] AESA [AESA...]
 */
#include <callmgr/client.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ADDS 64

struct add {
	cm_party_id party; /* 0: completed (or never asked) */
	long long deadline_ms;
};

struct root {
	char **addrs;
	int naddrs;
	int adds_pending;
	long add_timeout_ms; /* 0: wait for every add */
	struct add adds[MAX_ADDS];
	cm_vc_id vc;
	int count; /* SDUs to send */
	int done; /* 1 ok, -1 failed */
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_now(cm_client *c, struct root *r)
{
	/* the parties are all there: ask for the descriptor, then send and close */
	if (cm_data_fd(c, r->vc, NULL) != CM_OK)
		r->done = -1;
}

static void data_fd_complete(cm_client *c, int status, cm_vc_id vc, int fd, void *ctx)
{
	struct root *r = cm_client_userdata(c);
	if (status != CM_OK) {
		printf("root: no data descriptor: %s\n", cm_strerror(status));
		r->done = -1;
		return;
	}
	for (int i = 1; i <= r->count; i++) {
		char sdu[64];
		int n = snprintf(sdu, sizeof(sdu), "SDU %d of %d", i, r->count);
		/* blocks while the daemon is behind: the descriptor paces the root */
		if (send(fd, sdu, (size_t)n, MSG_NOSIGNAL) != n) {
			perror("root: send");
			r->done = -1;
			close(fd);
			return;
		}
	}
	printf("root: sent %d SDUs\n", r->count);
	close(fd);
	printf("root: CloseCall vc %llu (force)\n", (unsigned long long)r->vc);
	if (cm_close_call(c, r->vc, 0, NULL, 0, CM_CLOSE_FORCE, NULL) != CM_OK)
		r->done = -1;
}

static void add_party_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
			       void *ctx)
{
	struct root *r = cm_client_userdata(c);
	printf("root: AddPartyComplete %s: %s, party %llu\n", (const char *)ctx,
	       cm_strerror(status), (unsigned long long)party);
	for (int i = 0; i < MAX_ADDS; i++)
		if (r->adds[i].party == party)
			r->adds[i].party = 0;
	if (--r->adds_pending == 0)
		close_now(c, r);
}

static void make_call_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
			       void *ctx)
{
	struct root *r = cm_client_userdata(c);
	printf("root: MakeCallComplete %s: %s, vc %llu party %llu\n", (const char *)ctx,
	       cm_strerror(status), (unsigned long long)vc, (unsigned long long)party);
	if (status != CM_OK) {
		r->done = -1;
		return;
	}
	r->vc = vc;
	for (int i = 1; i < r->naddrs && i <= MAX_ADDS; i++) {
		struct add *a = &r->adds[i - 1];
		if (cm_add_party_id(c, vc, r->addrs[i], &a->party, r->addrs[i]) != CM_OK)
			continue;
		r->adds_pending++;
		a->deadline_ms = now_ms() + r->add_timeout_ms;
	}
	if (r->adds_pending == 0)
		close_now(c, r);
}

/* Cancel the adds that took too long: DropParty on the id each add was given. */
static void cancel_slow_adds(cm_client *c, struct root *r)
{
	if (!r->add_timeout_ms)
		return;
	long long now = now_ms();
	for (int i = 0; i < MAX_ADDS; i++) {
		struct add *a = &r->adds[i];
		if (!a->party || a->deadline_ms > now)
			continue;
		printf("root: add of party %llu takes too long: DropParty\n",
		       (unsigned long long)a->party);
		cm_drop_party(c, r->vc, a->party, NULL, 0, NULL);
		a->deadline_ms = now + 60000; /* its completion ends it */
	}
}

static void close_call_complete(cm_client *c, int status, cm_vc_id vc, void *ctx)
{
	struct root *r = cm_client_userdata(c);
	printf("root: CloseCallComplete vc %llu: %s\n", (unsigned long long)vc,
	       cm_strerror(status));
	r->done = status == CM_OK ? 1 : -1;
}

static void incoming_drop_party(cm_client *c, cm_vc_id vc, cm_party_id party, int cause,
				const void *data, size_t len)
{
	printf("root: IncomingDropParty vc %llu party %llu cause %d\n", (unsigned long long)vc,
	       (unsigned long long)party, cause);
	cm_drop_party(c, vc, party, NULL, 0, NULL); /* the answer; completes at once */
}

static void incoming_close_call(cm_client *c, cm_vc_id vc, int cause, const void *data,
				size_t len)
{
	struct root *r = cm_client_userdata(c);
	printf("root: IncomingCloseCall vc %llu cause %d\n", (unsigned long long)vc, cause);
	cm_close_call(c, vc, 0, NULL, 0, CM_CLOSE_FORCE, NULL);
	r->done = -1;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	int o, count = 5;
	long add_timeout_ms = 0;
	while ((o = getopt(argc, argv, "s:n:t:")) != -1) {
		if (o == 's')
			sock = optarg;
		else if (o == 'n')
			count = atoi(optarg);
		else if (o == 't' && (add_timeout_ms = atol(optarg)) > 0)
			continue;
		else
			goto usage;
	}
	if (optind >= argc || count < 0)
		goto usage;
	struct root r = { .addrs = argv + optind, .naddrs = argc - optind, .count = count,
			  .add_timeout_ms = add_timeout_ms };
	static const struct cm_client_ops ops = {
		CM_CLIENT_OPS_INIT,
		.make_call_complete = make_call_complete,
		.add_party_complete = add_party_complete,
		.close_call_complete = close_call_complete,
		.incoming_drop_party = incoming_drop_party,
		.incoming_close_call = incoming_close_call,
		.data_fd_complete = data_fd_complete,
	};
	int err;
	cm_client *c = cm_client_open(sock, &ops, &r, &err);
	if (!c) {
		fprintf(stderr, "root: cannot connect: %s\n", cm_strerror(err));
		return 1;
	}
	struct cm_call_params params = { CM_CALL_PARAMS_INIT, .peak_kbps = 1000,
					.max_sdu = 9188, .qos_class = 0 };
	err = cm_make_call(c, &params, r.addrs[0], r.addrs[0]);
	if (err != CM_OK) {
		fprintf(stderr, "root: MakeCall: %s\n", cm_strerror(err));
		return 1;
	}
	while (!r.done) {
		struct pollfd pfd = { .fd = cm_client_fd(c), .events = POLLIN };
		int n = poll(&pfd, 1, r.add_timeout_ms ? 50 : 10000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n == 0 && !r.add_timeout_ms)) {
			fprintf(stderr, "root: no answer from the daemon\n");
			break;
		}
		if (n > 0 && cm_client_dispatch(c) == CM_E_DISCONNECTED)
			break;
		cancel_slow_adds(c, &r);
	}
	cm_client_close(c);
	return r.done == 1 ? 0 : 1;
usage:
	fprintf(stderr, "usage: root [-s SOCKET] [-n COUNT] [-t MS] AESA [AESA...]\n");
	return 2;
}

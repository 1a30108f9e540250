/* SPDX-License-Identifier: MIT */
/*
 * demo: the multipoint life cycle of SPEC §1, printed as it happens.
 *
 *   demo [-s SOCKET] [--leaving SEL] SEL SEL [SEL...]
 *
 * Calls the leaf registered on the first selector of this node, adds the
 * others, waits for the leaf on --leaving to leave on its own
 * (IncomingDropParty, answered with DropParty), then drops the remaining
 * parties but the first one by one -- each next DropParty issued from
 * inside the previous DropPartyComplete -- and finally closes the call
 * naming the first party, from inside the last DropPartyComplete.
 *
 * Data: once every party is there the demo sends an SDU on the call's data
 * descriptor before each drop and before the close, so each leaf prints the
 * SDUs sent while it was a party and then "end of data".
 */
#include <callmgr/client.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PARTIES 32

enum party_state { P_NONE, P_ADDING, P_UP, P_DROPPING, P_GONE };

struct party {
	int selector;
	cm_party_id id;
	enum party_state state;
	char addr[CM_ADDR_HEX_LEN + 1];
};

struct demo {
	struct party p[MAX_PARTIES];
	int n;
	int leaving;          /* selector expected to leave, -1 none */
	int leaving_done;
	int adds_pending;
	int tearing_down;
	cm_vc_id vc;
	int data_fd;          /* the root's data descriptor, -1 until it comes */
	int sdus;
	int done;             /* 1 ok, -1 failed */
};

/* One SDU to every party of the call now. */
static void say(struct demo *d, const char *what)
{
	if (d->data_fd < 0)
		return;
	char sdu[128];
	int n = snprintf(sdu, sizeof(sdu), "SDU %d from the root: %s", ++d->sdus, what);
	printf("demo: sending \"%s\"\n", sdu);
	if (send(d->data_fd, sdu, (size_t)n, MSG_NOSIGNAL) != n)
		printf("demo: send failed\n");
}

static struct party *by_id(struct demo *d, cm_party_id id)
{
	for (int i = 0; i < d->n; i++)
		if (d->p[i].id == id)
			return &d->p[i];
	return NULL;
}

static void fail(struct demo *d, const char *what, int status)
{
	printf("demo: %s failed: %s\n", what, cm_strerror(status));
	d->done = -1;
}

/* Drop the next party that is up, other than the first; or close the call. */
static void teardown_step(cm_client *c, struct demo *d)
{
	for (int i = 1; i < d->n; i++) {
		struct party *p = &d->p[i];
		if (p->state != P_UP)
			continue;
		static const char note[] = "goodbye from the root";
		char what[64];
		snprintf(what, sizeof(what), "selector %d is dropped next", p->selector);
		say(d, what);
		printf("demo: DropParty vc %llu party %llu (selector %d) with %zu octets\n",
		       (unsigned long long)d->vc, (unsigned long long)p->id, p->selector,
		       sizeof(note) - 1);
		int rc = cm_drop_party(c, d->vc, p->id, note, sizeof(note) - 1, p);
		if (rc != CM_OK) {
			fail(d, "DropParty", rc);
			return;
		}
		p->state = P_DROPPING;
		return;
	}
	struct party *last = &d->p[0];
	say(d, "the call closes next");
	printf("demo: one party left: CloseCall vc %llu naming party %llu\n",
	       (unsigned long long)d->vc, (unsigned long long)last->id);
	int rc = cm_close_call(c, d->vc, last->id, "end", 3, 0, NULL);
	if (rc != CM_OK)
		fail(d, "CloseCall", rc);
}

static void maybe_teardown(cm_client *c, struct demo *d)
{
	if (d->tearing_down || d->adds_pending > 0 || (d->leaving >= 0 && !d->leaving_done))
		return;
	d->tearing_down = 1;
	printf("demo: every party added%s; tearing down\n",
	       d->leaving >= 0 ? " and the leaving one gone" : "");
	teardown_step(c, d);
}

static void data_fd_complete(cm_client *c, int status, cm_vc_id vc, int fd, void *ctx)
{
	struct demo *d = cm_client_userdata(c);
	if (status != CM_OK) {
		fail(d, "cm_data_fd", status);
		return;
	}
	d->data_fd = fd;
	printf("demo: the call's data descriptor is %d\n", fd);
}

static void make_call_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
			       void *ctx)
{
	struct demo *d = cm_client_userdata(c);
	struct party *p = ctx;
	printf("demo: MakeCallComplete %s: vc %llu party %llu (selector %d)\n",
	       cm_strerror(status), (unsigned long long)vc, (unsigned long long)party,
	       p->selector);
	if (status != CM_OK) {
		fail(d, "MakeCall", status);
		return;
	}
	d->vc = vc;
	p->id = party;
	p->state = P_UP;
	int rc0 = cm_data_fd(c, vc, NULL);
	if (rc0 != CM_OK) {
		fail(d, "cm_data_fd", rc0);
		return;
	}
	for (int i = 1; i < d->n; i++) {
		printf("demo: AddParty %s (selector %d)\n", d->p[i].addr, d->p[i].selector);
		int rc = cm_add_party(c, vc, d->p[i].addr, &d->p[i]);
		if (rc != CM_OK) {
			fail(d, "AddParty", rc);
			return;
		}
		d->p[i].state = P_ADDING;
		d->adds_pending++;
	}
	maybe_teardown(c, d);
}

static void add_party_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
			       void *ctx)
{
	struct demo *d = cm_client_userdata(c);
	struct party *p = ctx;
	printf("demo: AddPartyComplete %s: party %llu (selector %d)\n", cm_strerror(status),
	       (unsigned long long)party, p->selector);
	d->adds_pending--;
	if (status != CM_OK) {
		fail(d, "AddParty", status);
		return;
	}
	/* The leaf may have left already: then the id is known from the drop. */
	if (p->state == P_ADDING) {
		p->id = party;
		p->state = P_UP;
	}
	maybe_teardown(c, d);
}

static void incoming_drop_party(cm_client *c, cm_vc_id vc, cm_party_id party, int cause,
				const void *data, size_t len)
{
	struct demo *d = cm_client_userdata(c);
	struct party *p = by_id(d, party);
	printf("demo: IncomingDropParty vc %llu party %llu (selector %d) cause %d%s%.*s%s\n",
	       (unsigned long long)vc, (unsigned long long)party, p ? p->selector : -1, cause,
	       len ? ", data \"" : "", (int)len, len ? (const char *)data : "", len ? "\"" : "");
	printf("demo: answering with DropParty party %llu\n", (unsigned long long)party);
	int rc = cm_drop_party(c, vc, party, NULL, 0, p);
	if (rc != CM_OK) {
		fail(d, "DropParty (answer)", rc);
		return;
	}
	if (p)
		p->state = P_DROPPING;
}

static void drop_party_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
				void *ctx)
{
	struct demo *d = cm_client_userdata(c);
	struct party *p = ctx;
	printf("demo: DropPartyComplete %s: party %llu (selector %d)\n", cm_strerror(status),
	       (unsigned long long)party, p ? p->selector : -1);
	if (status != CM_OK) {
		fail(d, "DropParty", status);
		return;
	}
	if (p)
		p->state = P_GONE;
	if (p && p->selector == d->leaving && !d->leaving_done) {
		d->leaving_done = 1;
		maybe_teardown(c, d);
		return;
	}
	/* SPEC §1 rule 5: the next request from inside the completion. */
	if (d->tearing_down)
		teardown_step(c, d);
}

static void close_call_complete(cm_client *c, int status, cm_vc_id vc, void *ctx)
{
	struct demo *d = cm_client_userdata(c);
	printf("demo: CloseCallComplete vc %llu: %s\n", (unsigned long long)vc,
	       cm_strerror(status));
	d->done = status == CM_OK ? 1 : -1;
}

static void incoming_close_call(cm_client *c, cm_vc_id vc, int cause, const void *data,
				size_t len)
{
	struct demo *d = cm_client_userdata(c);
	printf("demo: IncomingCloseCall vc %llu cause %d: the call is gone\n",
	       (unsigned long long)vc, cause);
	cm_close_call(c, vc, 0, NULL, 0, CM_CLOSE_FORCE, NULL);
	d->done = -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "leaving", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	struct demo d = { .leaving = -1 };
	int o;
	while ((o = getopt_long(argc, argv, "s:l:", opts, NULL)) != -1) {
		switch (o) {
		case 's': sock = optarg; break;
		case 'l': d.leaving = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (argc - optind < 2 || argc - optind > MAX_PARTIES)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);

	static const struct cm_client_ops ops = {
		CM_CLIENT_OPS_INIT,
		.make_call_complete = make_call_complete,
		.add_party_complete = add_party_complete,
		.drop_party_complete = drop_party_complete,
		.close_call_complete = close_call_complete,
		.incoming_drop_party = incoming_drop_party,
		.incoming_close_call = incoming_close_call,
		.data_fd_complete = data_fd_complete,
	};
	int err;
	d.data_fd = -1;
	cm_client *c = cm_client_open(sock, &ops, &d, &err);
	if (!c) {
		fprintf(stderr, "demo: cannot connect: %s\n", cm_strerror(err));
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		struct party *p = &d.p[d.n++];
		p->selector = atoi(argv[i]);
		cm_client_address(c, (uint8_t)p->selector, p->addr, sizeof(p->addr));
	}
	struct cm_call_params params = { CM_CALL_PARAMS_INIT, .peak_kbps = 2000,
					.max_sdu = 9188, .qos_class = 0 };
	printf("demo: MakeCall %s (selector %d)\n", d.p[0].addr, d.p[0].selector);
	err = cm_make_call(c, &params, d.p[0].addr, &d.p[0]);
	if (err != CM_OK) {
		fprintf(stderr, "demo: MakeCall: %s\n", cm_strerror(err));
		return 1;
	}
	while (!d.done) {
		struct pollfd pfd = { .fd = cm_client_fd(c), .events = POLLIN };
		int n = poll(&pfd, 1, 10000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			printf("demo: nothing happened for 10 s; giving up\n");
			d.done = -1;
			break;
		}
		if (cm_client_dispatch(c) == CM_E_DISCONNECTED) {
			printf("demo: the daemon went away\n");
			d.done = -1;
		}
	}
	cm_client_close(c);
	if (d.data_fd >= 0)
		close(d.data_fd);
	printf("demo: %s\n", d.done == 1 ? "done" : "FAILED");
	return d.done == 1 ? 0 : 1;
usage:
	fprintf(stderr, "usage: demo [-s SOCKET] [--leaving SEL] SEL SEL [SEL...]\n");
	return 2;
}

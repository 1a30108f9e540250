/* SPDX-License-Identifier: MIT */
/*
 * churn: AddParty/DropParty/CloseCall churn over a lossy wire, counting
 * completions.  SLOTS VCs run at once; each round of a slot makes a call to
 * the first address, adds the others, drops all but the last party one
 * after another from inside the completions (rule 5), and closes the call
 * with the last.  Requests may fail under loss (timeouts); what must hold
 * is that every request that returned 0 completes exactly once.
 *
 *   churn [-s SOCKET] [-t SECONDS] SLOTS ROUNDS AESA [AESA...]
 *
 * Prints one line per event worth asserting on, then a summary:
 *   summary requests=N completions=N duplicates=N stuck=N vcs_open=N
 * and exits 0 only when every round ended, requests == completions,
 * no duplicate, and no VC is left open.
 */
#include <callmgr/client.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARTIES 16

enum slot_state { SLOT_IDLE, SLOT_MAKING, SLOT_ADDING, SLOT_DROPPING, SLOT_CLOSING, SLOT_DONE };

struct slot {
	int index;
	enum slot_state state;
	int round;
	cm_vc_id vc;
	bool vc_open;      /* MakeCall completed OK and no CloseCall completed OK yet */
	bool forced;       /* the plain CloseCall failed; a forced one was sent */
	int in_flight;     /* requests of this slot without completion */
	cm_party_id parties[MAX_PARTIES];
	int nparties;
};

/* One request; kept until exit so that a second completion is seen. */
struct req {
	struct req *next;
	struct slot *slot;
	bool completed;
	char what;         /* m a d c: make, add, drop, close */
};

struct churn {
	char **addrs;
	int naddrs;
	int rounds;
	struct slot *slots;
	int nslots;
	struct req *reqs;
	long requests, completions, duplicates, failures;
	long status_count[-CM_STATUS_MIN + 1];
};

static void slot_next(cm_client *c, struct slot *s);

static struct req *req_new(struct churn *ch, struct slot *s, char what)
{
	struct req *r = calloc(1, sizeof(*r));
	if (!r) {
		perror("calloc");
		exit(1);
	}
	r->slot = s;
	r->what = what;
	r->next = ch->reqs;
	ch->reqs = r;
	return r;
}

/* rc: what the cm_ call returned for r.  Returns true when r was queued. */
static bool req_sent(struct churn *ch, struct req *r, int rc)
{
	if (rc != CM_OK) {
		printf("refused %c slot=%d: %s\n", r->what, r->slot->index, cm_strerror(rc));
		ch->failures++;
		r->completed = true; /* never completes; kept so the list stays simple */
		return false;
	}
	ch->requests++;
	r->slot->in_flight++;
	return true;
}

/* Counts a completion; false for a duplicate, which must not be acted on. */
static bool req_done(cm_client *c, struct req *r, int status)
{
	struct churn *ch = cm_client_userdata(c);
	if (r->completed) {
		printf("duplicate completion %c slot=%d status=%d\n", r->what, r->slot->index,
		       status);
		ch->duplicates++;
		return false;
	}
	r->completed = true;
	ch->completions++;
	r->slot->in_flight--;
	if (status <= 0 && status >= CM_STATUS_MIN)
		ch->status_count[-status]++;
	return true;
}

static void party_remove(struct slot *s, cm_party_id p)
{
	for (int i = 0; i < s->nparties; i++)
		if (s->parties[i] == p) {
			s->parties[i] = s->parties[--s->nparties];
			return;
		}
}

static struct slot *slot_of_vc(struct churn *ch, cm_vc_id vc)
{
	for (int i = 0; i < ch->nslots; i++)
		if (ch->slots[i].vc_open && ch->slots[i].vc == vc)
			return &ch->slots[i];
	return NULL;
}

static void slot_make(cm_client *c, struct slot *s)
{
	struct churn *ch = cm_client_userdata(c);
	struct cm_call_params params = { CM_CALL_PARAMS_INIT, .peak_kbps = 100, .max_sdu = 1500 };
	s->state = SLOT_MAKING;
	s->nparties = 0;
	s->forced = false;
	struct req *r = req_new(ch, s, 'm');
	if (!req_sent(ch, r, cm_make_call(c, &params, ch->addrs[0], r)))
		slot_next(c, s);
}

/* The round of this slot is over: start the next, or stop. */
static void slot_next(cm_client *c, struct slot *s)
{
	struct churn *ch = cm_client_userdata(c);
	if (s->in_flight || s->vc_open)
		return;
	if (++s->round >= ch->rounds) {
		s->state = SLOT_DONE;
		return;
	}
	slot_make(c, s);
}

/* Drop parties one at a time; the last one goes with CloseCall. */
static void slot_shrink(cm_client *c, struct slot *s)
{
	struct churn *ch = cm_client_userdata(c);
	if (!s->vc_open) {
		slot_next(c, s);
		return;
	}
	if (s->in_flight)
		return;
	struct req *r;
	if (s->nparties > 1) {
		s->state = SLOT_DROPPING;
		static const char bye[] = "churn";
		r = req_new(ch, s, 'd');
		if (req_sent(ch, r, cm_drop_party(c, s->vc, s->parties[s->nparties - 1], bye,
						  sizeof(bye) - 1, r)))
			return;
		/* could not even be sent: close with force below */
	}
	s->state = SLOT_CLOSING;
	r = req_new(ch, s, 'c');
	unsigned flags = s->nparties == 1 && !s->forced ? 0 : CM_CLOSE_FORCE;
	cm_party_id last = flags ? 0 : s->parties[0];
	if (flags)
		s->forced = true;
	if (!req_sent(ch, r, cm_close_call(c, s->vc, last, NULL, 0, flags, r)))
		printf("stuck slot=%d vc=%" PRIu64 "\n", s->index, s->vc);
}

static void make_call_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
			       void *ctx)
{
	struct churn *ch = cm_client_userdata(c);
	struct req *r = ctx;
	if (!req_done(c, r, status))
		return;
	struct slot *s = r->slot;
	if (status != CM_OK) {
		slot_next(c, s);
		return;
	}
	s->vc = vc;
	s->vc_open = true;
	s->parties[s->nparties++] = party;
	s->state = SLOT_ADDING;
	for (int i = 1; i < ch->naddrs && i < MAX_PARTIES; i++) {
		struct req *a = req_new(ch, s, 'a');
		req_sent(ch, a, cm_add_party(c, vc, ch->addrs[i], a));
	}
	slot_shrink(c, s);
}

static void add_party_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
			       void *ctx)
{
	struct req *r = ctx;
	if (!req_done(c, r, status))
		return;
	struct slot *s = r->slot;
	if (status == CM_OK && s->vc_open && s->nparties < MAX_PARTIES)
		s->parties[s->nparties++] = party;
	slot_shrink(c, s);
}

static void drop_party_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
				void *ctx)
{
	struct req *r = ctx;
	if (!req_done(c, r, status))
		return;
	struct slot *s = r->slot;
	/* whatever the status, the party is gone or unknown to the daemon now */
	party_remove(s, party);
	slot_shrink(c, s);
}

static void close_call_complete(cm_client *c, int status, cm_vc_id vc, void *ctx)
{
	struct req *r = ctx;
	if (!req_done(c, r, status))
		return;
	struct slot *s = r->slot;
	if (status == CM_OK || status == CM_E_NO_VC) {
		s->vc_open = false;
		s->nparties = 0;
	} else {
		printf("close failed slot=%d vc=%" PRIu64 ": %s\n", s->index, vc,
		       cm_strerror(status));
		if (s->forced) {
			printf("stuck slot=%d vc=%" PRIu64 "\n", s->index, vc);
			return;
		}
		s->forced = true;
	}
	slot_shrink(c, s);
}

/* A party left on its own (lost, timed out, or its node gone): rule 3. */
static void incoming_drop_party(cm_client *c, cm_vc_id vc, cm_party_id party, int cause,
				const void *data, size_t len)
{
	struct churn *ch = cm_client_userdata(c);
	struct slot *s = slot_of_vc(ch, vc);
	printf("incoming_drop_party vc=%" PRIu64 " party=%" PRIu64 " cause=%d\n", vc, party,
	       cause);
	if (!s)
		return;
	party_remove(s, party);
	struct req *r = req_new(ch, s, 'd');
	req_sent(ch, r, cm_drop_party(c, vc, party, NULL, 0, r));
}

static void incoming_close_call(cm_client *c, cm_vc_id vc, int cause, const void *data,
				size_t len)
{
	struct churn *ch = cm_client_userdata(c);
	struct slot *s = slot_of_vc(ch, vc);
	printf("incoming_close_call vc=%" PRIu64 " cause=%d\n", vc, cause);
	if (!s)
		return;
	s->forced = true;
	struct req *r = req_new(ch, s, 'c');
	req_sent(ch, r, cm_close_call(c, vc, 0, NULL, 0, CM_CLOSE_FORCE, r));
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	long limit_s = 50;
	int o;
	while ((o = getopt(argc, argv, "s:t:")) != -1) {
		switch (o) {
		case 's': sock = optarg; break;
		case 't': limit_s = atol(optarg); break;
		default: goto usage;
		}
	}
	if (argc - optind < 3)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct churn ch = {
		.nslots = atoi(argv[optind]),
		.rounds = atoi(argv[optind + 1]),
		.addrs = argv + optind + 2,
		.naddrs = argc - optind - 2,
	};
	if (ch.nslots <= 0 || ch.rounds <= 0)
		goto usage;
	ch.slots = calloc((size_t)ch.nslots, sizeof(*ch.slots));
	if (!ch.slots)
		return 1;
	static const struct cm_client_ops ops = {
		CM_CLIENT_OPS_INIT,
		.make_call_complete = make_call_complete,
		.add_party_complete = add_party_complete,
		.drop_party_complete = drop_party_complete,
		.close_call_complete = close_call_complete,
		.incoming_drop_party = incoming_drop_party,
		.incoming_close_call = incoming_close_call,
	};
	int err;
	cm_client *c = cm_client_open(sock, &ops, &ch, &err);
	if (!c) {
		fprintf(stderr, "churn: cannot connect: %s\n", cm_strerror(err));
		return 1;
	}
	for (int i = 0; i < ch.nslots; i++) {
		ch.slots[i].index = i;
		slot_make(c, &ch.slots[i]);
	}
	long long deadline = now_ms() + limit_s * 1000;
	bool disconnected = false;
	for (;;) {
		int done = 0;
		for (int i = 0; i < ch.nslots; i++)
			done += ch.slots[i].state == SLOT_DONE;
		if (done == ch.nslots)
			break;
		long long left = deadline - now_ms();
		if (left <= 0) {
			printf("timeout: %d of %d slots done\n", done, ch.nslots);
			break;
		}
		struct pollfd pfd = { .fd = cm_client_fd(c), .events = POLLIN };
		int n = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && cm_client_dispatch(c) == CM_E_DISCONNECTED) {
			printf("disconnected\n");
			disconnected = true;
			break;
		}
	}
	int stuck = 0, open = 0;
	for (int i = 0; i < ch.nslots; i++) {
		struct slot *s = &ch.slots[i];
		stuck += s->state != SLOT_DONE;
		open += s->vc_open;
		if (s->state != SLOT_DONE)
			printf("slot %d: round %d state %d in_flight %d vc %" PRIu64 " open %d parties %d\n",
			       i, s->round, s->state, s->in_flight, s->vc, s->vc_open, s->nparties);
	}
	printf("statuses:");
	for (int i = 0; i <= -CM_STATUS_MIN; i++)
		if (ch.status_count[i])
			printf(" %s=%ld", i ? cm_strerror(-i) : "ok", ch.status_count[i]);
	printf("\n");
	printf("summary requests=%ld completions=%ld duplicates=%ld refused=%ld stuck=%d vcs_open=%d\n",
	       ch.requests, ch.completions, ch.duplicates, ch.failures, stuck, open);
	cm_client_close(c);
	while (ch.reqs) {
		struct req *r = ch.reqs;
		ch.reqs = r->next;
		free(r);
	}
	free(ch.slots);
	bool ok = !disconnected && !stuck && !open && !ch.duplicates &&
		  ch.requests == ch.completions;
	return ok ? 0 : 1;
usage:
	fprintf(stderr, "usage: churn [-s SOCKET] [-t SECONDS] SLOTS ROUNDS AESA [AESA...]\n");
	return 2;
}

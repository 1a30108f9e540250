/* SPDX-License-Identifier: MIT */
/*
 * Test helper for cmctl: one process, two libcallmgr clients on a local-mode
 * callmgrd.  The leaf registers selectors 1..PARTIES and accepts every call;
 * the root makes VCS multipoint calls, each with parties on selectors
 * 1..PARTIES (or FIRST..FIRST+PARTIES-1).  Then it prints one line per root VC:
 *   VC <vc> <party> <party> ...
 * and "READY", and keeps both clients alive (answering incoming drops and
 * closes, printing "EVENT <what> <vc> <party>") until stdin closes.
 *
 *   calls SOCKET VCS PARTIES [FIRST]
 */
#include <callmgr/client.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IN_FLIGHT 64
#define MAX_PARTIES 16

struct vc {
	cm_vc_id id;
	cm_party_id party[MAX_PARTIES];
	int n_up;
};

static struct vc *vcs;
static int n_vcs, n_parties, made, complete, sap_ok, failed;
static char addr[MAX_PARTIES + 1][CM_ADDR_HEX_LEN + 1];
static cm_client *root, *leaf;

static void die(const char *what, int status)
{
	fprintf(stderr, "calls: %s: %s\n", what, cm_strerror(status));
	exit(1);
}

static void make_next(void)
{
	while (made < n_vcs && made - complete < IN_FLIGHT) {
		struct cm_call_params p = { CM_CALL_PARAMS_INIT };
		int rc = cm_make_call(root, &p, addr[1], &vcs[made]);
		if (rc)
			die("MakeCall", rc);
		made++;
	}
}

static void register_sap_complete(cm_client *c, int status, uint8_t sel, void *ctx)
{
	if (status)
		die("RegisterSap", status);
	sap_ok++;
}

static void party_up(struct vc *v)
{
	if (++v->n_up == n_parties) {
		complete++;
		make_next();
	}
}

static void make_call_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
			       void *ctx)
{
	struct vc *v = ctx;
	if (status)
		die("MakeCall", status);
	v->id = vc;
	v->party[0] = party;
	for (int i = 1; i < n_parties; i++) {
		int rc = cm_add_party(c, vc, addr[i + 1], v);
		if (rc)
			die("AddParty", rc);
	}
	party_up(v);
}

static void add_party_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
			       void *ctx)
{
	struct vc *v = ctx;
	if (status)
		die("AddParty", status);
	/* parties complete in order of their selectors: the daemon serves one leg in order */
	v->party[v->n_up] = party;
	party_up(v);
}

static void drop_party_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
				void *ctx)
{
	printf("EVENT drop-party-complete %llu %llu %d\n", (unsigned long long)vc,
	       (unsigned long long)party, status);
	fflush(stdout);
}

static void close_call_complete(cm_client *c, int status, cm_vc_id vc, void *ctx)
{
	printf("EVENT close-call-complete %llu 0 %d\n", (unsigned long long)vc, status);
	fflush(stdout);
}

static void incoming_drop_party(cm_client *c, cm_vc_id vc, cm_party_id party, int cause,
				const void *data, size_t len)
{
	printf("EVENT %s-incoming-drop-party %llu %llu %.*s\n", c == root ? "root" : "leaf",
	       (unsigned long long)vc, (unsigned long long)party, (int)len, (const char *)data);
	fflush(stdout);
	/* CoNDIS: the answer to IncomingDropParty is DropParty on that party */
	cm_drop_party(c, vc, party, NULL, 0, NULL);
}

static void incoming_close_call(cm_client *c, cm_vc_id vc, int cause, const void *data,
				size_t len)
{
	printf("EVENT %s-incoming-close-call %llu 0 %.*s\n", c == root ? "root" : "leaf",
	       (unsigned long long)vc, (int)len, (const char *)data);
	fflush(stdout);
	cm_close_call(c, vc, 0, NULL, 0, CM_CLOSE_FORCE, NULL);
}

static void incoming_call(cm_client *c, cm_vc_id vc, cm_party_id party, const char *caller,
			  const struct cm_call_params *p)
{
	int rc = cm_accept_call(c, vc, party);
	if (rc)
		die("AcceptCall", rc);
}

static void call_connected(cm_client *c, cm_vc_id vc, cm_party_id party)
{
}

static const struct cm_client_ops ops = {
	CM_CLIENT_OPS_INIT,
	.register_sap_complete = register_sap_complete,
	.make_call_complete = make_call_complete,
	.add_party_complete = add_party_complete,
	.drop_party_complete = drop_party_complete,
	.close_call_complete = close_call_complete,
	.incoming_drop_party = incoming_drop_party,
	.incoming_close_call = incoming_close_call,
	.incoming_call = incoming_call,
	.call_connected = call_connected,
};

/* Dispatch both clients (and watch stdin when asked); false once stdin closed. */
static int pump(int watch_stdin)
{
	struct pollfd p[3] = { { cm_client_fd(root), POLLIN, 0 },
			       { cm_client_fd(leaf), POLLIN, 0 },
			       { 0, POLLIN, 0 } };
	if (poll(p, watch_stdin ? 3 : 2, 5000) < 0)
		return 1;
	if (p[0].revents && cm_client_dispatch(root) < 0)
		die("root", CM_E_DISCONNECTED);
	if (p[1].revents && cm_client_dispatch(leaf) < 0)
		die("leaf", CM_E_DISCONNECTED);
	if (watch_stdin && p[2].revents) {
		char buf[64];
		if (read(0, buf, sizeof(buf)) <= 0)
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: calls SOCKET VCS PARTIES [FIRST]\n");
		return 2;
	}
	n_vcs = atoi(argv[2]);
	n_parties = atoi(argv[3]);
	int first = argc == 5 ? atoi(argv[4]) : 1;
	if (n_vcs < 1 || n_parties < 1 || n_parties > MAX_PARTIES || first < 0 ||
	    first + n_parties > 256)
		return 2;
	vcs = calloc((size_t)n_vcs, sizeof(*vcs));
	int err;
	root = cm_client_open(argv[1], &ops, NULL, &err);
	if (!root)
		die("open", err);
	leaf = cm_client_open(argv[1], &ops, NULL, &err);
	if (!leaf)
		die("open", err);
	for (int i = 1; i <= n_parties; i++) {
		uint8_t sel = (uint8_t)(first + i - 1);
		int rc = cm_register_sap(leaf, sel, NULL);
		if (rc)
			die("RegisterSap", rc);
		rc = cm_client_address(leaf, sel, addr[i], sizeof(addr[i]));
		if (rc)
			die("address", rc);
	}
	while (sap_ok < n_parties)
		pump(0);
	make_next();
	while (complete < n_vcs)
		pump(0);
	for (int i = 0; i < n_vcs; i++) {
		printf("VC %llu", (unsigned long long)vcs[i].id);
		for (int j = 0; j < n_parties; j++)
			printf(" %llu", (unsigned long long)vcs[i].party[j]);
		putchar('\n');
	}
	puts("READY");
	fflush(stdout);
	while (pump(1))
		;
	cm_client_close(root);
	cm_client_close(leaf);
	free(vcs);
	return failed;
}

/* SPDX-License-Identifier: MIT */
/*
 * hog: a local user taking what it can, against a local-mode callmgrd.
 *
 *   hog SOCKET budget SESSIONS CALLS
 *       one owner session registers SAP 7 and accepts every call; SESSIONS
 *       more sessions of the same user each make CALLS calls to it (64 in
 *       flight each) and keep them.
 *   hog SOCKET slowowner CALLS
 *       an owner of SAP 7 that takes 1 ms per event and accepts, against a
 *       caller making CALLS calls with 2,048 in flight (a SETUP flood),
 *       each closed once it connects.
 * Both print
 *   made N limit N refused N other N owner_gone 0|1
 * made: MakeCalls completed CM_OK; limit: CM_E_LIMIT (the caller's user
 * over its budget); refused: CM_E_REJECTED (the callee refused: its user
 * over budget, cause 47, or too many calls unanswered, cause 41); other:
 * anything else; owner_gone: the SAP owner was disconnected.
 * Exits 1 when a session could not be opened.
 */
#include <callmgr/client.h>

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SAP 7
#define MAX_SESSIONS 16

static unsigned long made, limit, refused, other, in_flight[MAX_SESSIONS + 1];
static bool owner_gone, slow, close_after;
static char target[CM_ADDR_HEX_LEN + 1];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_made(cm_client *c, int status, cm_vc_id vc, cm_party_id p, void *ctx)
{
	unsigned long *fl = cm_client_userdata(c);
	(*fl)--;
	if (status == CM_OK) {
		made++;
		if (close_after)
			cm_close_call(c, vc, p, NULL, 0, 0, NULL);
	} else if (status == CM_E_LIMIT) {
		limit++;
	} else if (status == CM_E_REJECTED) {
		refused++;
	} else {
		other++;
	}
}

static void on_incoming(cm_client *c, cm_vc_id vc, cm_party_id p, const char *caller,
			const struct cm_call_params *params)
{
	if (slow)
		usleep(1000);
	cm_accept_call(c, vc, p);
}

static void on_incoming_close(cm_client *c, cm_vc_id vc, int cause, const void *d, size_t len)
{
	if (slow)
		usleep(1000);
	cm_close_call(c, vc, 0, NULL, 0, 0, NULL);
}

static void on_other(cm_client *c, cm_vc_id vc, cm_party_id p)
{
	if (slow)
		usleep(1000);
}

static void on_registered(cm_client *c, int status, uint8_t sel, void *ctx)
{
	*(int *)ctx = status == CM_OK ? 1 : -1;
}

static cm_client *open_one(const char *path, unsigned long *fl)
{
	static const struct cm_client_ops ops = { CM_CLIENT_OPS_INIT,
						  .register_sap_complete = on_registered,
						  .make_call_complete = on_made,
						  .incoming_call = on_incoming,
						  .incoming_close_call = on_incoming_close,
						  .call_connected = on_other };
	int err = 0;
	cm_client *c = cm_client_open(path, &ops, fl, &err);
	if (!c) {
		fprintf(stderr, "hog: open: %s\n", cm_strerror(err));
		exit(1);
	}
	return c;
}

/* Dispatch every session for up to ms, or until idle (no call in flight) when stop_idle. */
static void pump(cm_client **cs, int n, int ms, bool stop_idle, unsigned long per, unsigned long depth,
		 unsigned long *issued)
{
	double end = now_s() + ms / 1000.0;
	while (now_s() < end) {
		struct pollfd pfd[MAX_SESSIONS + 1];
		bool busy = false;
		for (int i = 0; i < n; i++) {
			/* cs[0] is the owner; the others call */
			while (i > 0 && issued[i] < per && in_flight[i] < depth) {
				if (cm_make_call(cs[i], NULL, target, NULL) < 0)
					break;
				issued[i]++;
				in_flight[i]++;
			}
			busy |= i > 0 && (in_flight[i] > 0 || issued[i] < per);
			pfd[i].fd = cm_client_fd(cs[i]);
			pfd[i].events = POLLIN;
		}
		if (stop_idle && !busy)
			return;
		poll(pfd, (nfds_t)n, 50);
		for (int i = 0; i < n; i++)
			if (cm_client_dispatch(cs[i]) == CM_E_DISCONNECTED) {
				if (i == 0)
					owner_gone = true;
				return;
			}
	}
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: hog SOCKET budget SESSIONS CALLS | hog SOCKET slowowner CALLS\n");
		return 2;
	}
	const char *path = argv[1];
	bool budget = strcmp(argv[2], "budget") == 0;
	int n = budget ? atoi(argv[3]) : 1;
	unsigned long calls = strtoul(argv[budget ? 4 : 3], NULL, 10);
	if (n < 1 || n > MAX_SESSIONS || (budget && argc < 5))
		return 2;
	slow = !budget;
	close_after = !budget;
	cm_client *cs[MAX_SESSIONS + 1];
	unsigned long issued[MAX_SESSIONS + 1] = { 0 };
	for (int i = 0; i <= n; i++)
		cs[i] = open_one(path, &in_flight[i]);
	int reg = 0;
	cm_register_sap(cs[0], SAP, &reg);
	while (!reg) {
		struct pollfd pfd = { .fd = cm_client_fd(cs[0]), .events = POLLIN };
		poll(&pfd, 1, 100);
		cm_client_dispatch(cs[0]);
	}
	if (reg < 0) {
		fprintf(stderr, "hog: SAP %d refused\n", SAP);
		return 1;
	}
	cm_client_address(cs[0], SAP, target, sizeof(target));
	pump(cs, n + 1, 120000, true, calls, budget ? 64 : 2048, issued);
	/* let the last answers reach the owner */
	pump(cs, n + 1, 500, false, 0, 0, issued);
	printf("made %lu limit %lu refused %lu other %lu owner_gone %d\n", made, limit, refused,
	       other, owner_gone);
	for (int i = 0; i <= n; i++)
		cm_client_close(cs[i]);
	return 0;
}

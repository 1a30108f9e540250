/* SPDX-License-Identifier: MIT */
/*
 * leaf: the receiving end of multipoint calls.  Registers a SAP, accepts
 * every incoming call and prints each event.  Once a call is connected it
 * asks for the call's data descriptor and prints every SDU that arrives on
 * it, and "end of data" when the daemon ends it (the party was dropped or
 * the call closed).  With --close-after MS it
 * leaves each call on its own MS milliseconds after it connected, which
 * the root sees as IncomingDropParty.  On SIGTERM or SIGINT it gives its
 * SAP back (cm_deregister_sap) and exits once that completed.
 *
 *   leaf [-s SOCKET] [--close-after MS] [--name NAME] SELECTOR
 */
#include <callmgr/client.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CALLS 64

struct call {
	cm_vc_id vc;
	cm_party_id party;
	long long close_at_ms; /* 0: not scheduled */
	int data_fd;           /* the call's data descriptor, 0 until it comes */
};

struct leaf {
	const char *name;
	long close_after_ms;
	struct call calls[MAX_CALLS];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct call *find_call(struct leaf *l, cm_vc_id vc)
{
	for (int i = 0; i < MAX_CALLS; i++)
		if (l->calls[i].vc == vc)
			return &l->calls[i];
	return NULL;
}

static void register_sap_complete(cm_client *c, int status, uint8_t sel, void *ctx)
{
	struct leaf *l = cm_client_userdata(c);
	char addr[CM_ADDR_HEX_LEN + 1];
	cm_client_address(c, sel, addr, sizeof(addr));
	printf("%s: RegisterSapComplete %s, address %s\n", l->name, cm_strerror(status), addr);
	if (status != CM_OK)
		stop = 1;
}

static void incoming_call(cm_client *c, cm_vc_id vc, cm_party_id party, const char *caller,
			  const struct cm_call_params *p)
{
	struct leaf *l = cm_client_userdata(c);
	printf("%s: IncomingCall vc %llu party %llu from %s (peak %u kbit/s, qos %u); accepting\n",
	       l->name, (unsigned long long)vc, (unsigned long long)party, caller, p->peak_kbps,
	       p->qos_class);
	struct call *slot = find_call(l, 0);
	if (!slot) {
		cm_reject_call(c, vc, party, 17 /* user busy */);
		return;
	}
	slot->vc = vc;
	slot->party = party;
	slot->close_at_ms = 0;
	int rc = cm_accept_call(c, vc, party);
	if (rc != CM_OK)
		printf("%s: AcceptCall failed: %s\n", l->name, cm_strerror(rc));
}

/* The accept is on its way (CM_OK), or the call was no longer there to accept. */
static void accept_call_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party)
{
	struct leaf *l = cm_client_userdata(c);
	if (status == CM_OK)
		return; /* CallConnected follows */
	printf("%s: AcceptCall vc %llu: %s\n", l->name, (unsigned long long)vc, cm_strerror(status));
	struct call *call = find_call(l, vc);
	if (call)
		memset(call, 0, sizeof(*call));
}

static void reject_call_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party)
{
	struct leaf *l = cm_client_userdata(c);
	printf("%s: RejectCall vc %llu: %s\n", l->name, (unsigned long long)vc, cm_strerror(status));
}

static void deregister_sap_complete(cm_client *c, int status, uint8_t sel, void *ctx)
{
	struct leaf *l = cm_client_userdata(c);
	printf("%s: DeregisterSapComplete %u: %s\n", l->name, sel, cm_strerror(status));
	*(bool *)ctx = true;
}

static void call_connected(cm_client *c, cm_vc_id vc, cm_party_id party)
{
	struct leaf *l = cm_client_userdata(c);
	printf("%s: CallConnected vc %llu party %llu\n", l->name, (unsigned long long)vc,
	       (unsigned long long)party);
	struct call *call = find_call(l, vc);
	if (call && l->close_after_ms > 0)
		call->close_at_ms = now_ms() + l->close_after_ms;
	int rc = cm_data_fd(c, vc, NULL);
	if (rc != CM_OK)
		printf("%s: cm_data_fd: %s\n", l->name, cm_strerror(rc));
}

static void data_fd_complete(cm_client *c, int status, cm_vc_id vc, int fd, void *ctx)
{
	struct leaf *l = cm_client_userdata(c);
	struct call *call = find_call(l, vc);
	if (status != CM_OK || !call) {
		printf("%s: no data descriptor for vc %llu: %s\n", l->name, (unsigned long long)vc,
		       cm_strerror(status));
		if (fd >= 0)
			close(fd);
		return;
	}
	call->data_fd = fd;
}

/* One SDU, or the end of the call's data. */
static void read_data(struct leaf *l, struct call *call)
{
	static char sdu[65536];
	ssize_t n = recv(call->data_fd, sdu, sizeof(sdu), MSG_DONTWAIT);
	if (n < 0)
		return;
	if (n == 0) {
		printf("%s: vc %llu: end of data\n", l->name, (unsigned long long)call->vc);
		close(call->data_fd);
		call->data_fd = 0;
		return;
	}
	int show = n > 60 ? 60 : (int)n;
	printf("%s: vc %llu: SDU of %zd octets: \"%.*s\"%s\n", l->name,
	       (unsigned long long)call->vc, n, show, sdu, n > show ? "..." : "");
}

static void incoming_close_call(cm_client *c, cm_vc_id vc, int cause, const void *data,
				size_t len)
{
	struct leaf *l = cm_client_userdata(c);
	printf("%s: IncomingCloseCall vc %llu cause %d, %zu octets of data%s%.*s%s\n", l->name,
	       (unsigned long long)vc, cause, len, len ? " \"" : "", (int)len,
	       len ? (const char *)data : "", len ? "\"" : "");
	struct call *call = find_call(l, vc);
	/* Answer it: CloseCall completes at once and frees the VC id. */
	int rc = cm_close_call(c, vc, call ? call->party : 0, NULL, 0, call ? 0 : CM_CLOSE_FORCE,
			       NULL);
	if (rc != CM_OK)
		printf("%s: CloseCall failed: %s\n", l->name, cm_strerror(rc));
}

static void close_call_complete(cm_client *c, int status, cm_vc_id vc, void *ctx)
{
	struct leaf *l = cm_client_userdata(c);
	printf("%s: CloseCallComplete vc %llu: %s\n", l->name, (unsigned long long)vc,
	       cm_strerror(status));
	struct call *call = find_call(l, vc);
	if (!call)
		return;
	/* what is still queued is read before the slot goes */
	while (call->data_fd > 0)
		read_data(l, call);
	memset(call, 0, sizeof(*call));
}

static void leave_due_calls(cm_client *c, struct leaf *l)
{
	long long now = now_ms();
	for (int i = 0; i < MAX_CALLS; i++) {
		struct call *call = &l->calls[i];
		if (!call->vc || !call->close_at_ms || call->close_at_ms > now)
			continue;
		call->close_at_ms = 0;
		static const char bye[] = "leaf leaving";
		printf("%s: leaving vc %llu: CloseCall\n", l->name, (unsigned long long)call->vc);
		int rc = cm_close_call(c, call->vc, call->party, bye, sizeof(bye) - 1, 0, NULL);
		if (rc != CM_OK)
			printf("%s: CloseCall failed: %s\n", l->name, cm_strerror(rc));
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "close-after", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	struct leaf l = { .name = "leaf" };
	int o;
	while ((o = getopt_long(argc, argv, "s:c:n:", opts, NULL)) != -1) {
		switch (o) {
		case 's': sock = optarg; break;
		case 'c': l.close_after_ms = atol(optarg); break;
		case 'n': l.name = optarg; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	int sel = atoi(argv[optind]);
	if (sel < 0 || sel > 255)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	static const struct cm_client_ops ops = {
		CM_CLIENT_OPS_INIT,
		.register_sap_complete = register_sap_complete,
		.incoming_call = incoming_call,
		.call_connected = call_connected,
		.incoming_close_call = incoming_close_call,
		.close_call_complete = close_call_complete,
		.accept_call_complete = accept_call_complete,
		.reject_call_complete = reject_call_complete,
		.deregister_sap_complete = deregister_sap_complete,
		.data_fd_complete = data_fd_complete,
	};
	int err;
	cm_client *c = cm_client_open(sock, &ops, &l, &err);
	if (!c) {
		fprintf(stderr, "%s: cannot connect: %s\n", l.name, cm_strerror(err));
		return 1;
	}
	if (cm_register_sap(c, (uint8_t)sel, NULL) != CM_OK)
		return 1;
	int status = 0;
	while (!stop) {
		struct pollfd pfd[1 + MAX_CALLS] = { { .fd = cm_client_fd(c), .events = POLLIN } };
		struct call *of[1 + MAX_CALLS];
		int n = 1;
		for (int i = 0; i < MAX_CALLS; i++)
			if (l.calls[i].vc && l.calls[i].data_fd > 0) {
				pfd[n] = (struct pollfd){ .fd = l.calls[i].data_fd, .events = POLLIN };
				of[n++] = &l.calls[i];
			}
		if (poll(pfd, (nfds_t)n, 50) < 0 && errno != EINTR)
			break;
		/* data first: what came before an event is printed before it */
		for (int i = 1; i < n; i++)
			if (pfd[i].revents)
				read_data(&l, of[i]);
		if (pfd[0].revents && cm_client_dispatch(c) == CM_E_DISCONNECTED) {
			printf("%s: the daemon went away\n", l.name);
			status = 1;
			break;
		}
		leave_due_calls(c, &l);
	}
	/* Give the SAP back first, so that no call is offered to us while we go. */
	bool gone = false;
	if (status == 0 && cm_deregister_sap(c, (uint8_t)sel, &gone) == CM_OK) {
		while (!gone) {
			struct pollfd pfd = { .fd = cm_client_fd(c), .events = POLLIN };
			int n = poll(&pfd, 1, 5000);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || cm_client_dispatch(c) == CM_E_DISCONNECTED)
				break;
		}
	}
	cm_client_close(c);
	return status;
usage:
	fprintf(stderr, "usage: leaf [-s SOCKET] [--close-after MS] [--name NAME] SELECTOR\n");
	return 2;
}

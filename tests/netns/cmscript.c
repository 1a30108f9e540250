/* SPDX-License-Identifier: MIT */
/*
 * cmscript: a libcallmgr client driven by commands on stdin, printing one
 * line per event on stdout, so a shell script can play root or leaf in a
 * multi-node test and assert on what each client saw.
 *
 *   cmscript [-s SOCKET] [-n NAME]
 *
 * Commands (one a line; DATA is hex or "-" for none; TAG names a request
 * and comes back in its completion):
 *   sap SEL TAG                  register a service access point
 *   addr SEL                     print "addr SEL HEX40"
 *   call AESA TAG [QOS]          make a multipoint call, 1,000 kbit/s, QoS class
 *                                QOS (default 0)
 *   add VC AESA TAG              add a party; "add_pending tag=TAG party=N"
 *                                gives its id at once (0: the daemon's choice)
 *   drop VC PARTY DATA TAG       drop a party
 *   close VC PARTY DATA TAG      close a VC naming its last party
 *   fclose VC DATA TAG           close with CM_CLOSE_FORCE
 *   auto on|off                  answer incoming calls/drops/closes (on)
 *   pending                      print "pending N"
 *   counts                       print "counts requests=N completions=N
 *                                pending=N duplicates=N" (auto ones included)
 *   quit
 * Events, each one line:
 *   ready
 *   <what>_complete tag=TAG status=NAME vc=N [party=N]
 *   incoming_call vc=N party=N caller=HEX peak=KBPS qos=CLASS
 *   call_connected vc=N party=N
 *   incoming_drop_party vc=N party=N cause=N data=HEX|-
 *   incoming_close_call vc=N cause=N data=HEX|-
 *   refused CMD status=NAME       (a request that could not be queued)
 *   duplicate tag=TAG             (a second completion: always a bug)
 *   disconnected                  (then a counts line, and exit)
 * Requests the program issues by itself (auto answers) get tag "auto".
 */
#include <callmgr/client.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A queued request, kept until exit so a second completion is caught. */
struct req {
	struct req *next;
	bool completed;
	char tag[64];
};

/* A leaf-side call: the party to name when the root's close reaches us. */
struct leaf_call {
	cm_vc_id vc;
	cm_party_id party;
};

#define MAX_LEAF_CALLS 256

struct script {
	const char *name;
	bool auto_answer;
	long pending;
	unsigned long requests, completions, duplicates;
	struct req *reqs;
	struct leaf_call calls[MAX_LEAF_CALLS];
	bool gone;
};

static const char *status_name(int status)
{
	static const char *const names[] = {
		"OK",		"E_INVAL",	"E_NO_VC",   "E_NO_PARTY", "E_LAST_PARTY",
		"E_PARTIES_REMAIN", "E_BUSY", "E_CLOSING", "E_REJECTED", "E_TIMEOUT",
		"E_LINK_DOWN",	"E_UNREACHABLE", "E_PERM",  "E_NOMEM",	  "E_LIMIT",
		"E_TOO_BIG",	"E_DISCONNECTED", "E_PROTO", "E_SAP_IN_USE", "E_NO_SAP",
		"E_STATE",
	};
	if (status <= 0 && -status < (int)(sizeof(names) / sizeof(names[0])))
		return names[-status];
	return "E_UNKNOWN";
}

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void hex_of(const void *data, size_t len, char *out)
{
	const uint8_t *p = data;
	if (!len) {
		strcpy(out, "-");
		return;
	}
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* "-" is no data; otherwise an even number of hex digits, at most 256 octets
 * so that the daemon's CM_E_TOO_BIG can be exercised. */
static int parse_hex(const char *s, uint8_t *buf, size_t cap, size_t *len)
{
	*len = 0;
	if (!strcmp(s, "-"))
		return 0;
	size_t n = strlen(s);
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		unsigned v;
		if (sscanf(s + i, "%2x", &v) != 1)
			return -1;
		buf[i / 2] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

static struct req *req_new(struct script *s, const char *tag)
{
	struct req *r = calloc(1, sizeof(*r));
	if (!r) {
		perror("calloc");
		exit(1);
	}
	snprintf(r->tag, sizeof(r->tag), "%s", tag);
	r->next = s->reqs;
	s->reqs = r;
	return r;
}

/* The request was not queued: it will never complete. */
static void req_refused(struct script *s, struct req *r, const char *what, int rc)
{
	emit("refused %s tag=%s status=%s", what, r->tag, status_name(rc));
	s->reqs = r->next;
	free(r);
}

/* rc is what the cm_ request returned for r. */
static void req_submitted(struct script *s, struct req *r, const char *what, int rc)
{
	if (rc != CM_OK) {
		req_refused(s, r, what, rc);
	} else {
		s->pending++;
		s->requests++;
	}
}

/* Returns false (after saying so) on a second completion of one request. */
static bool req_complete(struct script *s, struct req *r)
{
	if (r->completed) {
		emit("duplicate tag=%s", r->tag);
		s->duplicates++;
		return false;
	}
	r->completed = true;
	s->pending--;
	s->completions++;
	return true;
}

static struct leaf_call *leaf_call_find(struct script *s, cm_vc_id vc)
{
	for (int i = 0; i < MAX_LEAF_CALLS; i++)
		if (s->calls[i].vc == vc)
			return &s->calls[i];
	return NULL;
}

static void do_drop(cm_client *c, cm_vc_id vc, cm_party_id party, const void *data, size_t len,
		    const char *tag)
{
	struct script *s = cm_client_userdata(c);
	struct req *r = req_new(s, tag);
	int rc = cm_drop_party(c, vc, party, data, len, r);
	req_submitted(s, r, "drop", rc);
}

static void do_close(cm_client *c, cm_vc_id vc, cm_party_id party, const void *data,
		     size_t len, unsigned flags, const char *tag)
{
	struct script *s = cm_client_userdata(c);
	struct req *r = req_new(s, tag);
	int rc = cm_close_call(c, vc, party, data, len, flags, r);
	req_submitted(s, r, "close", rc);
}

static void on_register_sap_complete(cm_client *c, int status, uint8_t sel, void *ctx)
{
	struct req *r = ctx;
	if (req_complete(cm_client_userdata(c), r))
		emit("sap_complete tag=%s status=%s sel=%u", r->tag, status_name(status), sel);
}

static void on_make_call_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
				  void *ctx)
{
	struct req *r = ctx;
	if (req_complete(cm_client_userdata(c), r))
		emit("call_complete tag=%s status=%s vc=%" PRIu64 " party=%" PRIu64, r->tag,
		     status_name(status), vc, party);
}

static void on_add_party_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
				  void *ctx)
{
	struct req *r = ctx;
	if (req_complete(cm_client_userdata(c), r))
		emit("add_complete tag=%s status=%s vc=%" PRIu64 " party=%" PRIu64, r->tag,
		     status_name(status), vc, party);
}

static void on_drop_party_complete(cm_client *c, int status, cm_vc_id vc, cm_party_id party,
				   void *ctx)
{
	struct req *r = ctx;
	if (req_complete(cm_client_userdata(c), r))
		emit("drop_complete tag=%s status=%s vc=%" PRIu64 " party=%" PRIu64, r->tag,
		     status_name(status), vc, party);
}

static void on_close_call_complete(cm_client *c, int status, cm_vc_id vc, void *ctx)
{
	struct script *s = cm_client_userdata(c);
	struct req *r = ctx;
	if (req_complete(s, r))
		emit("close_complete tag=%s status=%s vc=%" PRIu64, r->tag, status_name(status),
		     vc);
	/* whatever the status, the VC is no longer ours: free the slot, or a
	 * long run fills the table and refuses every call as busy */
	struct leaf_call *lc = leaf_call_find(s, vc);
	if (lc)
		memset(lc, 0, sizeof(*lc));
}

static void on_incoming_drop_party(cm_client *c, cm_vc_id vc, cm_party_id party, int cause,
				   const void *data, size_t len)
{
	struct script *s = cm_client_userdata(c);
	char hex[2 * CM_MAX_DATA * 2 + 2];
	hex_of(data, len > CM_MAX_DATA * 2 ? CM_MAX_DATA * 2 : len, hex);
	emit("incoming_drop_party vc=%" PRIu64 " party=%" PRIu64 " cause=%d data=%s", vc, party,
	     cause, hex);
	/* rule 3: the answer to IncomingDropParty is DropParty on that party */
	if (s->auto_answer)
		do_drop(c, vc, party, NULL, 0, "auto");
}

static void on_incoming_close_call(cm_client *c, cm_vc_id vc, int cause, const void *data,
				   size_t len)
{
	struct script *s = cm_client_userdata(c);
	char hex[2 * CM_MAX_DATA * 2 + 2];
	hex_of(data, len > CM_MAX_DATA * 2 ? CM_MAX_DATA * 2 : len, hex);
	emit("incoming_close_call vc=%" PRIu64 " cause=%d data=%s", vc, cause, hex);
	if (!s->auto_answer)
		return;
	struct leaf_call *lc = leaf_call_find(s, vc);
	if (lc)
		do_close(c, vc, lc->party, NULL, 0, 0, "auto");
	else
		do_close(c, vc, 0, NULL, 0, CM_CLOSE_FORCE, "auto");
}

static void on_incoming_call(cm_client *c, cm_vc_id vc, cm_party_id party, const char *caller,
			     const struct cm_call_params *p)
{
	struct script *s = cm_client_userdata(c);
	emit("incoming_call vc=%" PRIu64 " party=%" PRIu64 " caller=%s peak=%u qos=%u", vc,
	     party, caller ? caller : "-", p ? p->peak_kbps : 0, p ? p->qos_class : 0);
	if (!s->auto_answer)
		return;
	struct leaf_call *lc = leaf_call_find(s, 0);
	if (!lc) {
		cm_reject_call(c, vc, party, 17 /* user busy */);
		return;
	}
	lc->vc = vc;
	lc->party = party;
	int rc = cm_accept_call(c, vc, party);
	if (rc != CM_OK)
		emit("refused accept status=%s", status_name(rc));
}

static void on_call_connected(cm_client *c, cm_vc_id vc, cm_party_id party)
{
	struct script *s = cm_client_userdata(c);
	emit("call_connected vc=%" PRIu64 " party=%" PRIu64, vc, party);
	struct leaf_call *lc = leaf_call_find(s, vc);
	if (!lc && (lc = leaf_call_find(s, 0))) {
		lc->vc = vc;
		lc->party = party;
	}
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!s)
		return false;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || *end || end == s)
		return false;
	*v = x;
	return true;
}

/* Runs one command line; returns false on "quit". */
static bool run_command(cm_client *c, char *line)
{
	struct script *s = cm_client_userdata(c);
	char *argv[8] = { 0 };
	int argc = 0;
	for (char *tok = strtok(line, " \t\n"); tok && argc < 8; tok = strtok(NULL, " \t\n"))
		argv[argc++] = tok;
	if (!argc)
		return true;
	const char *cmd = argv[0];
	uint64_t vc = 0, party = 0, sel = 0;
	uint8_t data[CM_MAX_DATA * 2];
	size_t len = 0;
	int rc;
	struct req *r;

	if (!strcmp(cmd, "quit"))
		return false;
	if (!strcmp(cmd, "pending")) {
		emit("pending %ld", s->pending);
	} else if (!strcmp(cmd, "counts")) {
		emit("counts requests=%lu completions=%lu pending=%ld duplicates=%lu", s->requests,
		     s->completions, s->pending, s->duplicates);
	} else if (!strcmp(cmd, "auto") && argc == 2) {
		s->auto_answer = !strcmp(argv[1], "on");
	} else if (!strcmp(cmd, "addr") && argc == 2 && parse_u64(argv[1], &sel) && sel < 256) {
		char buf[CM_ADDR_HEX_LEN + 1];
		rc = cm_client_address(c, (uint8_t)sel, buf, sizeof(buf));
		if (rc != CM_OK)
			emit("refused addr status=%s", status_name(rc));
		else
			emit("addr %u %s", (unsigned)sel, buf);
	} else if (!strcmp(cmd, "sap") && argc == 3 && parse_u64(argv[1], &sel) && sel < 256) {
		r = req_new(s, argv[2]);
		rc = cm_register_sap(c, (uint8_t)sel, r);
		req_submitted(s, r, cmd, rc);
	} else if (!strcmp(cmd, "call") && (argc == 3 || (argc == 4 && parse_u64(argv[3], &sel) &&
						       sel <= 255))) {
		struct cm_call_params params = { CM_CALL_PARAMS_INIT, .peak_kbps = 1000,
						.max_sdu = 9188 };
		if (argc == 4)
			params.qos_class = (uint8_t)sel;
		r = req_new(s, argv[2]);
		rc = cm_make_call(c, &params, argv[1], r);
		req_submitted(s, r, cmd, rc);
	} else if (!strcmp(cmd, "add") && argc == 4 && parse_u64(argv[1], &vc)) {
		r = req_new(s, argv[3]);
		cm_party_id id = 0;
		rc = cm_add_party_id(c, vc, argv[2], &id, r);
		req_submitted(s, r, cmd, rc);
		if (rc == CM_OK)
			emit("add_pending tag=%s party=%" PRIu64, argv[3], id);
	} else if (!strcmp(cmd, "drop") && argc == 5 && parse_u64(argv[1], &vc) &&
		   parse_u64(argv[2], &party) && !parse_hex(argv[3], data, sizeof(data), &len)) {
		do_drop(c, vc, party, data, len, argv[4]);
	} else if (!strcmp(cmd, "close") && argc == 5 && parse_u64(argv[1], &vc) &&
		   parse_u64(argv[2], &party) && !parse_hex(argv[3], data, sizeof(data), &len)) {
		do_close(c, vc, party, data, len, 0, argv[4]);
	} else if (!strcmp(cmd, "fclose") && argc == 4 && parse_u64(argv[1], &vc) &&
		   !parse_hex(argv[2], data, sizeof(data), &len)) {
		do_close(c, vc, 0, data, len, CM_CLOSE_FORCE, argv[3]);
	} else {
		emit("bad_command %s", cmd);
	}
	return true;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	struct script s = { .name = "cmscript", .auto_answer = true };
	int o;
	while ((o = getopt(argc, argv, "s:n:")) != -1) {
		switch (o) {
		case 's': sock = optarg; break;
		case 'n': s.name = optarg; break;
		default:
			fprintf(stderr, "usage: cmscript [-s SOCKET] [-n NAME]\n");
			return 2;
		}
	}
	static const struct cm_client_ops ops = {
		CM_CLIENT_OPS_INIT,
		.register_sap_complete = on_register_sap_complete,
		.make_call_complete = on_make_call_complete,
		.add_party_complete = on_add_party_complete,
		.drop_party_complete = on_drop_party_complete,
		.close_call_complete = on_close_call_complete,
		.incoming_drop_party = on_incoming_drop_party,
		.incoming_close_call = on_incoming_close_call,
		.incoming_call = on_incoming_call,
		.call_connected = on_call_connected,
	};
	int err;
	cm_client *c = cm_client_open(sock, &ops, &s, &err);
	if (!c) {
		fprintf(stderr, "%s: cannot connect: %s\n", s.name, cm_strerror(err));
		return 1;
	}
	emit("ready");

	char line[1024];
	size_t have = 0;
	bool running = true;
	int status = 0;
	while (running) {
		struct pollfd pfd[2] = {
			{ .fd = cm_client_fd(c), .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			status = 1;
			break;
		}
		if (pfd[0].revents && cm_client_dispatch(c) == CM_E_DISCONNECTED) {
			emit("disconnected");
			/* every outstanding request has completed by now */
			emit("counts requests=%lu completions=%lu pending=%ld duplicates=%lu",
			     s.requests, s.completions, s.pending, s.duplicates);
			status = 1;
			break;
		}
		if (!pfd[1].revents)
			continue;
		ssize_t n = read(STDIN_FILENO, line + have, sizeof(line) - 1 - have);
		if (n <= 0) /* end of commands: quit */
			break;
		have += (size_t)n;
		line[have] = '\0';
		char *nl;
		while (running && (nl = strchr(line, '\n'))) {
			*nl = '\0';
			size_t used = (size_t)(nl - line) + 1;
			running = run_command(c, line);
			memmove(line, line + used, have - used + 1);
			have -= used;
		}
		if (have == sizeof(line) - 1) {
			emit("bad_command too_long");
			have = 0;
		}
	}
	cm_client_close(c);
	while (s.reqs) {
		struct req *r = s.reqs;
		s.reqs = r->next;
		free(r);
	}
	return status;
}

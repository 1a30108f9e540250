/* SPDX-License-Identifier: MIT */
/*
 * cmctl — look at and manage callmgrd: status, VCs, parties, links, events.
 *
 * It speaks proto/callmgr.proto itself rather than going through
 * libcallmgr: the admin requests are not part of the client API, and a
 * blocking request/reply loop is all a CLI needs.  Exit status: 0 success,
 * 1 the daemon refused or failed, 2 usage, 3 cannot connect.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "callmgr.pb-c.h"
#include "callmgr/client.h"
#include "cm_connect.h"
#include "cm_frame.h"
#include "cm_hello_pb.h"
#include "cm_hex.h"
#include "names.h"

#define EXIT_DAEMON 1
#define EXIT_USAGE 2
#define EXIT_CONNECT 3

/* VCs asked for per ListVcs; about 30 octets each keeps a page well under a frame */
#define VC_PAGE 1000
#define REPLY_TIMEOUT_S 10

static const char *socket_path;
static bool json;
static int sock = -1;
static uint64_t next_req_id = 1;
static Callmgr__HelloReply *hello;

/*
 * What an error exit must not leak (the tests run under LeakSanitizer):
 * the one daemon message being looked at, a JSON document or table being
 * built.  Freed by cleanup() at exit.
 */
static Callmgr__DaemonMsg *held_msg;
static json_object *held_json;
struct table;
static struct table *held_table;
static void table_discard(struct table *t);

static void release(Callmgr__DaemonMsg *m)
{
	if (m == held_msg)
		held_msg = NULL;
	callmgr__daemon_msg__free_unpacked(m, NULL);
}

static void cleanup(void)
{
	if (held_msg)
		release(held_msg);
	if (held_json)
		json_object_put(held_json);
	held_json = NULL;
	if (held_table)
		table_discard(held_table);
	if (hello)
		callmgr__hello_reply__free_unpacked(hello, NULL);
	hello = NULL;
	if (sock >= 0)
		close(sock);
	sock = -1;
}

__attribute__((noreturn, format(printf, 2, 3))) static void die(int code, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("cmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

__attribute__((noreturn, format(printf, 1, 2))) static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("cmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see cmctl --help)\n", stderr);
	exit(EXIT_USAGE);
}

static const char usage_text[] =
	"Usage: cmctl [-s SOCKET] [-j|--json] COMMAND\n"
	"Commands:\n"
	"  status                       the daemon: mode, identity, counts\n"
	"  address [SEL]                this node's prefix, ESI and address for SEL\n"
	"  vc list                      every VC\n"
	"  vc show VC                   one VC with its parties, states and timers\n"
	"  link list                    peers with SSCOP state and counters\n"
	"  stats                        counters\n"
	"  monitor                      print events as they happen (Ctrl-C stops)\n"
	"  drop VC PARTY [--data HEX]   drop a party of any VC (admin)\n"
	"  close VC [--force]           close a VC; --force drops its parties first (admin)\n"
	"Options:\n"
	"  -s, --socket SOCKET  the daemon's socket (default $CALLMGR_SOCKET, else\n"
	"                       " CM_DEFAULT_SOCKET ")\n"
	"  -j, --json           JSON output for scripts\n"
	"  -h, --help           this help\n"
	"Exit status: 0 ok, 1 the daemon refused or failed, 2 usage, 3 cannot connect.\n";

/* ------------------------------------------------------------ the wire */

static void write_all(const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(sock, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die(EXIT_DAEMON, "lost the daemon: %s", n < 0 ? strerror(errno) : "closed");
		p += n;
		len -= (size_t)n;
	}
}

static void connect_daemon(void);

static uint64_t send_request(Callmgr__ClientMsg *m)
{
	/* connected only now, so bad arguments are reported as such without a daemon */
	if (sock < 0)
		connect_daemon();
	m->req_id = next_req_id++;
	size_t len = callmgr__client_msg__get_packed_size(m);
	uint8_t *buf = malloc(CMC_FRAME_HDR + len);
	if (!buf)
		die(EXIT_DAEMON, "%s", "out of memory");
	cmc_frame_put_len(buf, len);
	callmgr__client_msg__pack(m, buf + CMC_FRAME_HDR);
	write_all(buf, CMC_FRAME_HDR + len);
	free(buf);
	return m->req_id;
}

/* false at a clean end of stream before the first octet */
static bool read_all(uint8_t *p, size_t len, bool eof_ok)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(sock, p + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			die(EXIT_DAEMON, "the daemon did not answer within %d s", REPLY_TIMEOUT_S);
		if (n < 0)
			die(EXIT_DAEMON, "lost the daemon: %s", strerror(errno));
		if (n == 0) {
			if (got == 0 && eof_ok)
				return false;
			die(EXIT_DAEMON, "%s", "the daemon closed the connection");
		}
		got += (size_t)n;
	}
	return true;
}

static Callmgr__DaemonMsg *recv_msg(void)
{
	static uint8_t frame[CMC_MAX_FRAME];
	uint8_t hdr[CMC_FRAME_HDR];
	if (held_msg)
		release(held_msg);
	if (!read_all(hdr, sizeof(hdr), true))
		die(EXIT_DAEMON, "%s", "the daemon closed the connection");
	size_t len;
	if (cmc_frame_next(hdr, sizeof(hdr), sizeof(hdr), &len) == CMC_FRAME_TOO_BIG)
		die(EXIT_DAEMON, "protocol error: a %zu-octet frame from the daemon", len);
	read_all(frame, len, false);
	Callmgr__DaemonMsg *m = callmgr__daemon_msg__unpack(NULL, len, frame);
	if (!m)
		die(EXIT_DAEMON, "%s", "protocol error: a frame from the daemon does not decode");
	held_msg = m;
	return m;
}

static void daemon_error(const Callmgr__Error *e, const char *what)
{
	const char *text = e->message && e->message[0] ? e->message : cm_strerror(e->status);
	if (what)
		die(EXIT_DAEMON, "%s: %s", what, text);
	die(EXIT_DAEMON, "%s", text);
}

/*
 * Wait for the reply of request req_id: a message of case want echoing it,
 * or an Error for it (or a fatal one), which ends the program.  Anything
 * else (a pushed event, a newer daemon's message) is skipped.
 */
static Callmgr__DaemonMsg *await_reply(uint64_t req_id, Callmgr__DaemonMsg__BodyCase want,
				       const char *what)
{
	for (;;) {
		Callmgr__DaemonMsg *m = recv_msg();
		if (m->body_case == want) {
			uint64_t echoed = want == CALLMGR__DAEMON_MSG__BODY_COMPLETION
						  ? m->completion->req_id
						  : m->req_id;
			/* the hello reply comes before any request could be echoed */
			if (echoed == req_id || want == CALLMGR__DAEMON_MSG__BODY_HELLO_REPLY)
				return m;
		} else if (m->body_case == CALLMGR__DAEMON_MSG__BODY_ERROR &&
			   (m->error->req_id == req_id || m->error->req_id == 0 || m->error->fatal)) {
			daemon_error(m->error, what);
		}
		release(m);
	}
}

/*
 * One line a user can act on for each way of not reaching the daemon;
 * docs/operations.md lists them with their remedies.
 */
__attribute__((noreturn)) static void connect_failed(int err)
{
	switch (err) {
	case ENOENT:
		die(EXIT_CONNECT, "cannot connect to %s: no daemon (the socket does not exist)",
		    socket_path);
	case ECONNREFUSED:
		die(EXIT_CONNECT,
		    "cannot connect to %s: no daemon (stale socket, nothing listens on it)",
		    socket_path);
	case EACCES:
	case EPERM:
		die(EXIT_CONNECT,
		    "cannot connect to %s: permission denied (not in the socket's group?)",
		    socket_path);
	case ENAMETOOLONG:
		die(EXIT_CONNECT, "cannot connect to %s: path too long", socket_path);
	case EAGAIN:
		die(EXIT_CONNECT,
		    "cannot connect to %s: the daemon accepts no connections (queue full)",
		    socket_path);
	default:
		die(EXIT_CONNECT, "cannot connect to %s: %s", socket_path, strerror(err));
	}
}

static void connect_daemon(void)
{
	sock = cmc_unix_connect(socket_path, REPLY_TIMEOUT_S * 1000);
	if (sock < 0)
		connect_failed(errno);
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	Callmgr__ClientMsg m;
	Callmgr__Hello h;
	cmc_hello_msg(&m, &h, "cmctl");
	uint64_t id = send_request(&m);
	Callmgr__DaemonMsg *r = await_reply(id, CALLMGR__DAEMON_MSG__BODY_HELLO_REPLY, "hello");
	hello = r->hello_reply;
	r->hello_reply = NULL;
	r->body_case = CALLMGR__DAEMON_MSG__BODY__NOT_SET;
	release(r);
}

/* ------------------------------------------------------------ formatting */

/* buf must hold 2*len+1 */
static const char *bin_hex(ProtobufCBinaryData b, char *buf)
{
	cmc_hex_format(b.data, b.len, buf);
	return buf;
}

static const char *mac_str(ProtobufCBinaryData b, char *buf)
{
	if (b.len != 6) {
		strcpy(buf, "-");
		return buf;
	}
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", b.data[0], b.data[1], b.data[2],
		b.data[3], b.data[4], b.data[5]);
	return buf;
}

static const char *duration(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;
	if (s >= 86400)
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h%02" PRIu64 "m", s / 86400,
			 s / 3600 % 24, s / 60 % 60);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", s / 3600,
			 s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 ".%03" PRIu64 "s", s, ms % 1000);
	return buf;
}

/* An aligned table for people: cells are copied, printed at table_print(). */
struct table {
	size_t ncols, nrows, cap;
	char **cells;
	size_t width[16];
};

static void table_add(struct table *t, const char *const *row)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = realloc(t->cells, t->cap * t->ncols * sizeof(char *));
		if (!t->cells)
			die(EXIT_DAEMON, "%s", "out of memory");
	}
	held_table = t;
	for (size_t c = 0; c < t->ncols; c++) {
		char *s = strdup(row[c] ? row[c] : "");
		if (!s)
			die(EXIT_DAEMON, "%s", "out of memory");
		t->cells[t->nrows * t->ncols + c] = s;
		size_t w = strlen(s);
		if (w > t->width[c])
			t->width[c] = w;
	}
	t->nrows++;
}

static void table_discard(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
	if (held_table == t)
		held_table = NULL;
}

static void table_print(struct table *t)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 == t->ncols)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)t->width[c], s);
		}
	}
	table_discard(t);
}

static void json_print(json_object *o)
{
	if (held_json == o)
		held_json = NULL;
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void jadd(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}
#define JU64(x) json_object_new_uint64(x)
#define JSTR(x) json_object_new_string(x)
#define JBOOL(x) json_object_new_boolean(x)
#define JINT(x) json_object_new_int64(x)

/* "key  value" lines for people, one object for scripts */
struct kv {
	json_object *o;
	struct table t;
};

static void kv_init(struct kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	kv->t.ncols = 2;
	kv->o = json ? json_object_new_object() : NULL;
	held_json = kv->o;
}

static void kv_u64(struct kv *kv, const char *jkey, const char *label, uint64_t v)
{
	if (json) {
		jadd(kv->o, jkey, JU64(v));
		return;
	}
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	table_add(&kv->t, (const char *[]){ label, buf });
}

static void kv_str(struct kv *kv, const char *jkey, const char *label, const char *v)
{
	if (json)
		jadd(kv->o, jkey, JSTR(v));
	else
		table_add(&kv->t, (const char *[]){ label, v });
}

static void kv_done(struct kv *kv)
{
	if (json)
		json_print(kv->o);
	else
		table_print(&kv->t);
}

/* ------------------------------------------------------------ arguments */

static uint64_t parse_id(const char *s, const char *what)
{
	char *end;
	errno = 0;
	if (!s || *s < '0' || *s > '9')
		usage_error("\"%s\" is not a %s id", s ? s : "", what);
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || errno || v == 0)
		usage_error("\"%s\" is not a %s id", s, what);
	return v;
}

/* HEX into out (CM_MAX_DATA octets at most); returns the length */
static size_t parse_data(const char *s, uint8_t *out)
{
	size_t n = strlen(s);
	if (n % 2)
		usage_error("--data: \"%s\" is not an even number of hex digits", s);
	if (n / 2 > CM_MAX_DATA)
		usage_error("--data: %zu octets, at most %d may travel with a drop or close",
			    n / 2, CM_MAX_DATA);
	for (size_t i = 0; i < n; i += 2) {
		int hi = cmc_hexval(s[i]), lo = cmc_hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			usage_error("--data: \"%s\" is not hex", s);
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return n / 2;
}

static void no_more_args(char **argv)
{
	if (*argv)
		usage_error("unexpected argument \"%s\"", *argv);
}

/* ------------------------------------------------------------ commands */

static void cmd_status(char **argv)
{
	no_more_args(argv);
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__GetStatus g = CALLMGR__GET_STATUS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_GET_STATUS;
	m.get_status = &g;
	uint64_t id = send_request(&m);
	Callmgr__DaemonMsg *r = await_reply(id, CALLMGR__DAEMON_MSG__BODY_STATUS, "status");
	Callmgr__StatusReply *s = r->status;
	char buf[64], up[32];
	struct kv kv;
	kv_init(&kv);
	kv_str(&kv, "version", "version", s->daemon_version);
	kv_str(&kv, "mode", "mode", s->local_mode ? "local" : "network");
	if (json)
		jadd(kv.o, "interface", s->local_mode ? NULL : JSTR(s->interface));
	else if (!s->local_mode)
		kv_str(&kv, "interface", "interface", s->interface);
	kv_str(&kv, "prefix", "prefix", s->prefix.len <= 20 ? bin_hex(s->prefix, buf) : "?");
	kv_str(&kv, "esi", "esi", mac_str(s->esi, buf));
	if (json)
		kv_u64(&kv, "uptime_ms", "uptime", s->uptime_ms);
	else
		kv_str(&kv, "uptime", "uptime", duration(s->uptime_ms, up, sizeof(up)));
	kv_u64(&kv, "sessions", "sessions", s->sessions);
	kv_u64(&kv, "vcs", "vcs", s->vcs);
	kv_u64(&kv, "parties", "parties", s->parties);
	kv_u64(&kv, "links_up", "links up", s->links_up);
	kv_done(&kv);
	release(r);
}

static void cmd_address(char **argv)
{
	unsigned sel = 0;
	if (*argv) {
		char *end;
		unsigned long v = strtoul(*argv, &end, 0);
		if (!**argv || *end || v > 255)
			usage_error("\"%s\" is not a selector (0..255)", *argv);
		sel = (unsigned)v;
		argv++;
	}
	no_more_args(argv);
	connect_daemon();
	if (!cmc_hello_reply_ok(hello))
		die(EXIT_DAEMON, "the daemon sent no address (prefix %zu, ESI %zu octets)",
		    hello->prefix.len, hello->esi.len);
	char prefix[27], esi[13], mac[18], addr[41];
	bin_hex(hello->prefix, prefix);
	bin_hex(hello->esi, esi);
	snprintf(addr, sizeof(addr), "%s%s%02x", prefix, esi, sel);
	struct kv kv;
	kv_init(&kv);
	kv_str(&kv, "prefix", "prefix", prefix);
	kv_str(&kv, "esi", "esi", mac_str(hello->esi, mac));
	kv_u64(&kv, "selector", "selector", sel);
	kv_str(&kv, "address", "address", addr);
	kv_done(&kv);
}

static json_object *vc_json(const Callmgr__VcInfo *v)
{
	json_object *o = json_object_new_object();
	jadd(o, "vc", JU64(v->vc));
	jadd(o, "session", JU64(v->session));
	jadd(o, "owner_uid", JU64(v->owner_uid));
	jadd(o, "root", JBOOL(v->root));
	jadd(o, "state", JSTR(cm_vc_state_id(v->state)));
	jadd(o, "parties", JU64(v->parties));
	jadd(o, "legs", JU64(v->legs));
	return o;
}

static void vc_row(struct table *t, const Callmgr__VcInfo *v)
{
	char vc[24], sess[24], uid[16], parties[16], legs[16];
	snprintf(vc, sizeof(vc), "%" PRIu64, v->vc);
	snprintf(sess, sizeof(sess), "%" PRIu64, v->session);
	snprintf(uid, sizeof(uid), "%u", v->owner_uid);
	snprintf(parties, sizeof(parties), "%u", v->parties);
	snprintf(legs, sizeof(legs), "%u", v->legs);
	table_add(t, (const char *[]){ vc, sess, uid, v->root ? "root" : "leaf",
				       cm_vc_state_name(v->state),
				       parties, legs });
}

static void cmd_vc_list(char **argv)
{
	no_more_args(argv);
	struct table t = { .ncols = 7 };
	if (!json)
		table_add(&t, (const char *[]){ "VC", "SESSION", "UID", "ROLE", "STATE",
						"PARTIES", "LEGS" });
	else
		fputs("[", stdout);
	uint64_t after = 0;
	bool first = true;
	for (;;) {
		Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
		Callmgr__ListVcs l = CALLMGR__LIST_VCS__INIT;
		l.after = after;
		l.max = VC_PAGE;
		m.body_case = CALLMGR__CLIENT_MSG__BODY_LIST_VCS;
		m.list_vcs = &l;
		uint64_t id = send_request(&m);
		Callmgr__DaemonMsg *r = await_reply(id, CALLMGR__DAEMON_MSG__BODY_VC_LIST, "vc list");
		Callmgr__VcList *vl = r->vc_list;
		for (size_t i = 0; i < vl->n_vcs; i++) {
			const Callmgr__VcInfo *v = vl->vcs[i];
			/* ids only grow; anything else would loop forever */
			if (v->vc <= after)
				die(EXIT_DAEMON, "protocol error: VC %" PRIu64 " listed after %" PRIu64,
				    v->vc, after);
			after = v->vc;
			if (json) {
				/* streamed, so 100,000 VCs never sit in memory as objects */
				json_object *o = vc_json(v);
				fputs(first ? "" : ",", stdout);
				fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
				      stdout);
				json_object_put(o);
			} else {
				vc_row(&t, v);
			}
			first = false;
		}
		/* a reader of its own VCs only may get pages with none: a cursor */
		bool more = vl->more && (vl->n_vcs > 0 || vl->next_after > after);
		if (vl->next_after) {
			if (vl->next_after < after)
				die(EXIT_DAEMON, "protocol error: next page after %" PRIu64
					" behind %" PRIu64, vl->next_after, after);
			after = vl->next_after;
		}
		release(r);
		if (!more)
			break;
	}
	if (json)
		puts("]");
	else
		table_print(&t);
}

static json_object *party_json(const Callmgr__PartyInfo *p)
{
	char addr[2 * 20 + 1], mac[18];
	json_object *po = json_object_new_object();
	jadd(po, "party", JU64(p->party));
	jadd(po, "state", JSTR(cm_party_state_id(p->state)));
	jadd(po, "call_state", JSTR(cm_call_state_id(p->call_state)));
	jadd(po, "address", JSTR(p->addr.len <= 20 ? bin_hex(p->addr, addr) : "?"));
	jadd(po, "peer", JSTR(mac_str(p->peer, mac)));
	jadd(po, "cref", JU64(p->cref));
	jadd(po, "epref", JU64(p->epref));
	jadd(po, "timer", p->timer ? JSTR(cm_timer_id(p->timer)) : NULL);
	jadd(po, "data_sdus", JU64(p->data_sdus));
	jadd(po, "data_octets", JU64(p->data_octets));
	jadd(po, "data_lost", JU64(p->data_lost));
	return po;
}

static void party_row(struct table *t, const Callmgr__PartyInfo *p)
{
	char addr[2 * 20 + 1], mac[18], party[24], cref[16], epref[16];
	char sdus[24], octets[24], lost[24];
	snprintf(party, sizeof(party), "%" PRIu64, p->party);
	snprintf(cref, sizeof(cref), "%u", p->cref);
	snprintf(epref, sizeof(epref), "%u", p->epref);
	snprintf(sdus, sizeof(sdus), "%" PRIu64, p->data_sdus);
	snprintf(octets, sizeof(octets), "%" PRIu64, p->data_octets);
	snprintf(lost, sizeof(lost), "%" PRIu64, p->data_lost);
	table_add(t, (const char *[]){ party, cm_party_state_name(p->state),
				       cm_call_state_name(p->call_state), mac_str(p->peer, mac), cref,
				       epref, p->timer ? cm_timer_name(p->timer) : "-", sdus, octets,
				       lost, p->addr.len <= 20 ? bin_hex(p->addr, addr) : "?" });
}

static void cmd_vc_show(char **argv)
{
	if (!*argv)
		usage_error("%s", "vc show: which VC?");
	uint64_t vc = parse_id(*argv++, "VC");
	no_more_args(argv);
	char what[48];
	snprintf(what, sizeof(what), "vc %" PRIu64, vc);

	json_object *o = NULL, *parties = NULL;
	struct table t = { .ncols = 11 };
	uint64_t after = 0;
	bool first_page = true;
	/* the parties come in pages (at most 500 a reply) */
	for (;;) {
		Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
		Callmgr__ShowVc s = CALLMGR__SHOW_VC__INIT;
		s.vc = vc;
		s.after = after;
		m.body_case = CALLMGR__CLIENT_MSG__BODY_SHOW_VC;
		m.show_vc = &s;
		uint64_t id = send_request(&m);
		Callmgr__DaemonMsg *r = await_reply(id, CALLMGR__DAEMON_MSG__BODY_VC_DETAIL, what);
		Callmgr__VcDetail *d = r->vc_detail;
		if (!d->vc)
			die(EXIT_DAEMON, "%s: %s", what, cm_strerror(CM_E_NO_VC));
		if (first_page) {
			const Callmgr__VcInfo *v = d->vc;
			if (json) {
				o = vc_json(v);
				held_json = o;
				parties = json_object_new_array();
				jadd(o, "party_list", parties);
			} else {
				printf("vc %" PRIu64 " %s %s session %" PRIu64 " uid %u parties %u legs %u\n",
				       v->vc, v->root ? "root" : "leaf", cm_vc_state_name(v->state),
				       v->session,
				       v->owner_uid, v->parties, v->legs);
				table_add(&t, (const char *[]){ "PARTY", "STATE", "CALL", "PEER",
								"CREF", "EPREF", "TIMER", "SDUS",
								"OCTETS", "LOST", "ADDRESS" });
			}
			first_page = false;
		}
		for (size_t i = 0; i < d->n_parties; i++) {
			const Callmgr__PartyInfo *p = d->parties[i];
			if (p->party <= after)
				die(EXIT_DAEMON, "protocol error: party %" PRIu64 " listed after %" PRIu64,
				    p->party, after);
			after = p->party;
			if (json)
				json_object_array_add(parties, party_json(p));
			else
				party_row(&t, p);
		}
		bool more = d->more && d->n_parties > 0;
		release(r);
		if (!more)
			break;
	}
	if (json)
		json_print(o);
	else
		table_print(&t);
}

static json_object *link_json(const Callmgr__LinkInfo *k)
{
	char mac[18];
	json_object *o = json_object_new_object();
	jadd(o, "peer", JSTR(mac_str(k->peer, mac)));
	jadd(o, "state", JSTR(k->state));
	jadd(o, "sd_tx", JU64(k->sd_tx));
	jadd(o, "sd_rx", JU64(k->sd_rx));
	jadd(o, "retransmits", JU64(k->retransmits));
	jadd(o, "establishments", JU64(k->establishments));
	jadd(o, "failures", JU64(k->failures));
	jadd(o, "queued", JU64(k->queued));
	return o;
}

static void link_row(struct table *t, const Callmgr__LinkInfo *k)
{
	char mac[18], n[6][24];
	snprintf(n[0], 24, "%" PRIu64, k->sd_tx);
	snprintf(n[1], 24, "%" PRIu64, k->sd_rx);
	snprintf(n[2], 24, "%" PRIu64, k->retransmits);
	snprintf(n[3], 24, "%" PRIu64, k->establishments);
	snprintf(n[4], 24, "%" PRIu64, k->failures);
	snprintf(n[5], 24, "%u", k->queued);
	table_add(t, (const char *[]){ mac_str(k->peer, mac), k->state, n[0], n[1], n[2], n[3],
				       n[4], n[5] });
}

static void cmd_link_list(char **argv)
{
	no_more_args(argv);
	json_object *a = NULL;
	struct table t = { .ncols = 8 };
	if (json)
		held_json = a = json_object_new_array();
	else
		table_add(&t, (const char *[]){ "PEER", "STATE", "SD-TX", "SD-RX", "RETRANS",
						"ESTAB", "FAILED", "QUEUED" });
	uint8_t after[6];
	bool first = true;
	/* in pages of at most 512 peers, by MAC */
	for (;;) {
		Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
		Callmgr__ListLinks l = CALLMGR__LIST_LINKS__INIT;
		if (!first) {
			l.after.data = after;
			l.after.len = 6;
		}
		m.body_case = CALLMGR__CLIENT_MSG__BODY_LIST_LINKS;
		m.list_links = &l;
		uint64_t id = send_request(&m);
		Callmgr__DaemonMsg *r =
			await_reply(id, CALLMGR__DAEMON_MSG__BODY_LINK_LIST, "link list");
		Callmgr__LinkList *ll = r->link_list;
		for (size_t i = 0; i < ll->n_links; i++) {
			const Callmgr__LinkInfo *k = ll->links[i];
			if (k->peer.len != 6 || (!first && memcmp(k->peer.data, after, 6) <= 0))
				die(EXIT_DAEMON, "%s", "protocol error: link list out of MAC order");
			memcpy(after, k->peer.data, 6);
			first = false;
			if (json)
				json_object_array_add(a, link_json(k));
			else
				link_row(&t, k);
		}
		bool more = ll->more && ll->n_links > 0;
		release(r);
		if (!more)
			break;
	}
	if (json)
		json_print(a);
	else
		table_print(&t);
}

static void cmd_stats(char **argv)
{
	no_more_args(argv);
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__GetStats g = CALLMGR__GET_STATS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_GET_STATS;
	m.get_stats = &g;
	uint64_t id = send_request(&m);
	Callmgr__DaemonMsg *r = await_reply(id, CALLMGR__DAEMON_MSG__BODY_STATS, "stats");
	const Callmgr__Stats *s = r->stats;
	struct kv kv;
	kv_init(&kv);
#define STAT(f) kv_u64(&kv, #f, #f, s->f)
	STAT(sessions);
	STAT(vcs);
	STAT(parties);
	STAT(legs);
	STAT(saps);
	STAT(calls_made);
	STAT(calls_failed);
	STAT(parties_added);
	STAT(parties_dropped);
	STAT(msgs_in);
	STAT(msgs_out);
	STAT(msgs_bad);
	STAT(timer_expiries);
	STAT(ipc_frames_bad);
	STAT(sessions_dropped_slow);
	STAT(frames_rx);
	STAT(frames_tx);
	STAT(frames_bad);
	STAT(frames_unknown_peer);
	STAT(frames_group_src);
	STAT(peers_evicted);
	STAT(peers_refused);
	STAT(peers_idle_freed);
	STAT(peers);
	STAT(rx_buffered);
	STAT(accept_pauses);
	STAT(incoming_refused);
	STAT(budget_refused);
	STAT(state_bytes);
	STAT(users);
	STAT(monitors);
	STAT(monitors_refused);
	STAT(sessions_refused_user);
	STAT(output_queued);
	STAT(sessions_throttled);
	STAT(sessions_throttled_total);
	STAT(data_sdus_in);
	STAT(data_octets_in);
	STAT(data_sdus_out);
	STAT(data_octets_out);
	STAT(data_sdus_lost);
	STAT(data_sdus_dropped);
	STAT(data_frames_dropped);
	STAT(data_fds);
	STAT(data_frames_kernel_dropped);
#undef STAT
	kv_done(&kv);
	release(r);
}

static volatile sig_atomic_t interrupted;
static void on_interrupt(int sig)
{
	interrupted = 1;
}

static void print_event(const Callmgr__MonitorEvent *e)
{
	char mac[18];
	if (json) {
		json_object *o = json_object_new_object();
		jadd(o, "time_ms", JU64(e->time_ms));
		jadd(o, "kind", JSTR(e->kind));
		jadd(o, "session", JU64(e->session));
		jadd(o, "vc", JU64(e->vc));
		jadd(o, "party", JU64(e->party));
		jadd(o, "status", JINT(e->status));
		jadd(o, "cause", JU64(e->cause));
		jadd(o, "peer", e->peer.len == 6 ? JSTR(mac_str(e->peer, mac)) : NULL);
		jadd(o, "text", JSTR(e->text));
		json_print(o);
		fflush(stdout);
		return;
	}
	time_t t = (time_t)(e->time_ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	printf("%02d:%02d:%02d.%03u %s", tm.tm_hour, tm.tm_min, tm.tm_sec,
	       (unsigned)(e->time_ms % 1000), e->kind);
	if (e->session)
		printf(" session %" PRIu64, e->session);
	if (e->vc)
		printf(" vc %" PRIu64, e->vc);
	if (e->party)
		printf(" party %" PRIu64, e->party);
	if (e->status)
		printf(" status %s", cm_strerror(e->status));
	if (e->cause)
		printf(" cause %u", e->cause);
	if (e->peer.len == 6)
		printf(" peer %s", mac_str(e->peer, mac));
	if (e->text && e->text[0])
		printf(" %s", e->text);
	putchar('\n');
	fflush(stdout);
}

static void cmd_monitor(char **argv)
{
	no_more_args(argv);
	/* no handler restart: a blocked recv() must return on Ctrl-C */
	struct sigaction sa = { .sa_handler = on_interrupt };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct timeval none = { 0 };
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));

	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__Subscribe s = CALLMGR__SUBSCRIBE__INIT;
	s.enable = true;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_SUBSCRIBE;
	m.subscribe = &s;
	uint64_t id = send_request(&m);
	while (!interrupted) {
		uint8_t hdr[4];
		ssize_t n = recv(sock, hdr, 4, MSG_PEEK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			die(EXIT_DAEMON, "%s", "the daemon closed the connection");
		Callmgr__DaemonMsg *r = recv_msg();
		switch (r->body_case) {
		case CALLMGR__DAEMON_MSG__BODY_MONITOR_EVENT:
			print_event(r->monitor_event);
			break;
		case CALLMGR__DAEMON_MSG__BODY_EVENTS_LOST:
			if (json) {
				json_object *o = json_object_new_object();
				jadd(o, "events_lost", JU64(r->events_lost->count));
				json_print(o);
			} else {
				printf("events lost: %" PRIu64 "\n", r->events_lost->count);
			}
			fflush(stdout);
			break;
		case CALLMGR__DAEMON_MSG__BODY_ERROR:
			if (r->error->req_id == id || r->error->fatal)
				daemon_error(r->error, "monitor");
			break;
		default:
			/* a newer daemon's events, or a completion: not ours to show */
			break;
		}
		release(r);
	}
}

static void complete_admin(uint64_t id, const char *what)
{
	Callmgr__DaemonMsg *r = await_reply(id, CALLMGR__DAEMON_MSG__BODY_COMPLETION, what);
	const Callmgr__Completion *c = r->completion;
	if (c->status != CM_OK) {
		if (c->cause)
			die(EXIT_DAEMON, "%s: %s (cause %u)", what, cm_strerror(c->status), c->cause);
		die(EXIT_DAEMON, "%s: %s", what, cm_strerror(c->status));
	}
	if (json) {
		json_object *o = json_object_new_object();
		jadd(o, "status", JINT(c->status));
		jadd(o, "vc", JU64(c->vc));
		jadd(o, "party", JU64(c->party));
		json_print(o);
	}
	release(r);
}

static void cmd_drop(char **argv)
{
	uint8_t data[CM_MAX_DATA];
	size_t data_len = 0;
	char *pos[2] = { 0 };
	int npos = 0;
	for (; *argv; argv++) {
		if (strcmp(*argv, "--data") == 0) {
			if (!argv[1])
				usage_error("%s", "--data needs a HEX argument");
			data_len = parse_data(*++argv, data);
		} else if (npos < 2) {
			pos[npos++] = *argv;
		} else {
			usage_error("unexpected argument \"%s\"", *argv);
		}
	}
	if (npos < 2)
		usage_error("%s", "usage: drop VC PARTY [--data HEX]");
	uint64_t vc = parse_id(pos[0], "VC"), party = parse_id(pos[1], "party");

	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__AdminDrop d = CALLMGR__ADMIN_DROP__INIT;
	d.vc = vc;
	d.party = party;
	d.data.data = data;
	d.data.len = data_len;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_ADMIN_DROP;
	m.admin_drop = &d;
	char what[64];
	snprintf(what, sizeof(what), "drop vc %" PRIu64 " party %" PRIu64, vc, party);
	complete_admin(send_request(&m), what);
}

static void cmd_close(char **argv)
{
	bool force = false;
	const char *vcs = NULL;
	for (; *argv; argv++) {
		if (strcmp(*argv, "--force") == 0)
			force = true;
		else if (!vcs)
			vcs = *argv;
		else
			usage_error("unexpected argument \"%s\"", *argv);
	}
	if (!vcs)
		usage_error("%s", "usage: close VC [--force]");
	uint64_t vc = parse_id(vcs, "VC");
	char what[48];
	snprintf(what, sizeof(what), "close vc %" PRIu64, vc);
	/* the daemon refuses an unforced close while other live parties remain */
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__AdminClose c = CALLMGR__ADMIN_CLOSE__INIT;
	c.vc = vc;
	c.force = force;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_ADMIN_CLOSE;
	m.admin_close = &c;
	complete_admin(send_request(&m), what);
}

/* ------------------------------------------------------------ main */

struct command {
	const char *word1, *word2;
	void (*run)(char **argv);
};

static const struct command commands[] = {
	{ "status", NULL, cmd_status },	      { "address", NULL, cmd_address },
	{ "vc", "list", cmd_vc_list },	      { "vc", "show", cmd_vc_show },
	{ "link", "list", cmd_link_list },    { "stats", NULL, cmd_stats },
	{ "monitor", NULL, cmd_monitor },     { "drop", NULL, cmd_drop },
	{ "close", NULL, cmd_close },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	opterr = 0;
	int c;
	/* '+': options end at the command, whose own (--data, --force) follow it */
	while ((c = getopt_long(argc, argv, "+:s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case ':':
			usage_error("option %s needs an argument", argv[optind - 1]);
		default:
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	socket_path = cmc_socket_path(socket_path);
	char **args = argv + optind;
	if (!args[0])
		usage_error("%s", "no command");

	const struct command *cmd = NULL;
	bool word1_known = false;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(args[0], commands[i].word1) != 0)
			continue;
		word1_known = true;
		if (!commands[i].word2 || (args[1] && strcmp(args[1], commands[i].word2) == 0)) {
			cmd = &commands[i];
			break;
		}
	}
	if (!cmd && word1_known)
		usage_error("%s: unknown or missing subcommand%s%s", args[0],
			    args[1] ? " " : "", args[1] ? args[1] : "");
	if (!cmd)
		usage_error("unknown command \"%s\"", args[0]);

	atexit(cleanup);
	cmd->run(args + (cmd->word2 ? 2 : 1));
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EXIT_DAEMON, "cannot write the output: %s", strerror(errno));
	return 0;
}

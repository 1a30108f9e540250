/* SPDX-License-Identifier: MIT */
/*
 * libcallmgr: the client side of docs/ipc.md.
 *
 * Output: a request is written whole before the call returns.  A full
 * socket buffer means waiting for it.  The daemon stops reading a client
 * whose events it cannot get rid of (docs/ipc.md, flow control), so while
 * we wait we read what it sends into the input buffer (dispatched later, by
 * cm_client_dispatch()): a client issuing requests from its callbacks
 * cannot deadlock with the daemon.  Only CM_REQUEST_TIMEOUT_MS without any
 * progress either way gives up on the connection.  That keeps the contract
 * simple for callers driving us from any event loop: they poll for POLLIN
 * only and nothing waits in a queue for a POLLOUT they never asked for.
 *
 * Input: cm_client_dispatch() reads what is there, then runs one callback
 * per complete frame.  A frame leaves the buffer before its callback runs,
 * so callbacks may re-enter the library (requests, dispatch, close).
 */
#include "callmgr/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "callmgr-build.h"
#include "callmgr.pb-c.h"
#include "cm_connect.h"
#include "cm_frame.h"
#include "cm_hello_pb.h"
#include "cm_hex.h"

#define CLIENT_READ_BUDGET (256u * 1024u) /* per dispatch, then let others run */

enum req_kind {
	REQ_REGISTER_SAP = 1,
	REQ_MAKE_CALL,
	REQ_ADD_PARTY,
	REQ_DROP_PARTY,
	REQ_CLOSE_CALL,
	REQ_DEREGISTER_SAP,
	REQ_ACCEPT_CALL,
	REQ_REJECT_CALL,
	REQ_DATA_FD,
};

struct pending {
	uint64_t req_id;
	uint8_t kind;
	uint8_t selector;
	cm_vc_id vc;
	cm_party_id party;
	void *ctx;
	struct pending *hnext;        /* bucket chain */
	struct pending *next, *prev;  /* request order */
};

struct cm_client {
	int fd;
	struct cm_client_ops ops;
	void *userdata;
	uint8_t *in;
	size_t in_len, in_cap;
	size_t in_off; /* frames before it are consumed (next_frame); compacted on read */
	uint64_t in_read; /* octets ever read: progress, whatever the compaction did */
	uint64_t next_req_id;
	uint64_t last_seq;
	uint64_t seq_gaps;
	uint64_t session;
	uint32_t version;       /* the protocol version the daemon chose */
	/* party ids of our own for cm_add_party_id(): next_party .. last_party; none when 0 */
	uint64_t next_party, last_party;
	uint8_t prefix[CMC_PREFIX_LEN];
	uint8_t esi[CMC_ESI_LEN];
	char daemon_version[65];
	int depth;              /* dispatch nesting */
	bool closed;            /* cm_client_close() called; freed at depth 0 */
	bool disconnected;      /* no more requests: the daemon is going or gone */
	bool eof;               /* nothing more to read either */
	struct pending **buckets;
	size_t nbuckets, npending;
	struct pending *first, *last;
	/*
	 * Descriptors received (SCM_RIGHTS) and not yet matched with their
	 * DataFd frame, in arrival order; -1 for one the kernel had to drop
	 * (MSG_CTRUNC: over RLIMIT_NOFILE).  The daemon sends one per DataFd
	 * frame, on its first octet, so the n-th DataFd gets the n-th entry.
	 */
	int *fdq;
	size_t fdq_len, fdq_cap;
	bool fdq_broken;        /* out of memory for the queue: DataFd fails from then on */
};

/* ---------------------------------------------------------------- pending requests */

static size_t bucket_of(const cm_client *c, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (c->nbuckets - 1);
}

static void pending_grow(cm_client *c)
{
	size_t n = c->nbuckets * 2;
	struct pending **nb = calloc(n, sizeof(struct pending *));
	if (!nb)
		return; /* longer chains, still correct */
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
	for (struct pending *p = c->first; p; p = p->next) {
		size_t b = bucket_of(c, p->req_id);
		p->hnext = nb[b];
		nb[b] = p;
	}
}

static struct pending *pending_add(cm_client *c, uint8_t kind, void *ctx)
{
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (c->npending + 1 > c->nbuckets)
		pending_grow(c);
	p->req_id = ++c->next_req_id;
	p->kind = kind;
	p->ctx = ctx;
	size_t b = bucket_of(c, p->req_id);
	p->hnext = c->buckets[b];
	c->buckets[b] = p;
	p->prev = c->last;
	if (c->last)
		c->last->next = p;
	else
		c->first = p;
	c->last = p;
	c->npending++;
	return p;
}

static void pending_unlink(cm_client *c, struct pending *p)
{
	struct pending **pp = &c->buckets[bucket_of(c, p->req_id)];
	while (*pp && *pp != p)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = p->hnext;
	if (p->prev)
		p->prev->next = p->next;
	else
		c->first = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		c->last = p->prev;
	c->npending--;
}

static struct pending *pending_take(cm_client *c, uint64_t req_id)
{
	if (req_id == 0)
		return NULL;
	for (struct pending *p = c->buckets[bucket_of(c, req_id)]; p; p = p->hnext) {
		if (p->req_id == req_id) {
			pending_unlink(c, p);
			return p;
		}
	}
	return NULL;
}

/* Run the completion callback of p (already unlinked) and free it. */
static void complete(cm_client *c, struct pending *p, int status, cm_vc_id vc, cm_party_id party)
{
	struct pending req = *p;
	free(p);
	switch (req.kind) {
	case REQ_REGISTER_SAP:
		if (c->ops.register_sap_complete)
			c->ops.register_sap_complete(c, status, req.selector, req.ctx);
		break;
	case REQ_MAKE_CALL:
		if (c->ops.make_call_complete)
			c->ops.make_call_complete(c, status, vc, party, req.ctx);
		break;
	case REQ_ADD_PARTY:
		/* the id we chose, whatever an Error or a disconnect says */
		if (c->ops.add_party_complete)
			c->ops.add_party_complete(c, status, vc ? vc : req.vc,
						  req.party ? req.party : party, req.ctx);
		break;
	case REQ_DROP_PARTY:
		if (c->ops.drop_party_complete)
			c->ops.drop_party_complete(c, status, req.vc, req.party, req.ctx);
		break;
	case REQ_CLOSE_CALL:
		if (c->ops.close_call_complete)
			c->ops.close_call_complete(c, status, req.vc, req.ctx);
		break;
	case REQ_DEREGISTER_SAP:
		if (c->ops.deregister_sap_complete)
			c->ops.deregister_sap_complete(c, status, req.selector, req.ctx);
		break;
	case REQ_ACCEPT_CALL:
		if (c->ops.accept_call_complete)
			c->ops.accept_call_complete(c, status, req.vc, req.party);
		break;
	case REQ_REJECT_CALL:
		if (c->ops.reject_call_complete)
			c->ops.reject_call_complete(c, status, req.vc, req.party);
		break;
	case REQ_DATA_FD:
		if (c->ops.data_fd_complete)
			c->ops.data_fd_complete(c, status, req.vc, -1, req.ctx);
		break;
	}
}

/* The completion of a GetDataFd that brought a descriptor (p already unlinked). */
static void complete_fd(cm_client *c, struct pending *p, int fd)
{
	struct pending req = *p;
	free(p);
	if (c->ops.data_fd_complete)
		c->ops.data_fd_complete(c, fd >= 0 ? CM_OK : CM_E_LIMIT, req.vc, fd, req.ctx);
	else if (fd >= 0)
		close(fd); /* nobody to hand it to */
}

static void fdq_push(cm_client *c, int fd)
{
	if (c->fdq_len == c->fdq_cap) {
		size_t ncap = c->fdq_cap ? c->fdq_cap * 2 : 4;
		int *nq = realloc(c->fdq, ncap * sizeof(*nq));
		if (!nq) {
			/* which DataFd gets which descriptor is lost: none gets one */
			if (fd >= 0)
				close(fd);
			c->fdq_broken = true;
			return;
		}
		c->fdq = nq;
		c->fdq_cap = ncap;
	}
	c->fdq[c->fdq_len++] = fd;
}

static int fdq_pop(cm_client *c)
{
	if (c->fdq_len == 0)
		return -1;
	int fd = c->fdq[0];
	memmove(c->fdq, c->fdq + 1, (c->fdq_len - 1) * sizeof(int));
	c->fdq_len--;
	return fd;
}

/* The daemon is gone: every outstanding request ends, in request order. */
static void fail_all_pending(cm_client *c)
{
	while (c->first && !c->closed) {
		struct pending *p = c->first;
		pending_unlink(c, p);
		complete(c, p, CM_E_DISCONNECTED, p->vc, p->party);
	}
}

static void pending_free_all(cm_client *c)
{
	while (c->first) {
		struct pending *p = c->first;
		pending_unlink(c, p);
		free(p);
	}
}

/* ---------------------------------------------------------------- I/O */

/*
 * No more requests (a write failed, or the daemon said fatal).  Reading
 * goes on: answers the daemon sent before it went still count, and the
 * daemon closes its end once it sees ours shut.
 */
static void set_disconnected(cm_client *c)
{
	if (c->disconnected)
		return;
	c->disconnected = true;
	shutdown(c->fd, SHUT_WR);
}

/* The read side is over too; the descriptor stays ours until close. */
static void set_eof(cm_client *c)
{
	c->disconnected = true;
	if (c->eof)
		return;
	c->eof = true;
	shutdown(c->fd, SHUT_RDWR);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool read_some(cm_client *c, size_t budget);

/*
 * Write all of buf.  While the socket is full, read what the daemon sends
 * (it may be waiting for us to read before it reads again); give up after
 * timeout_ms without progress either way.
 */
static int write_all(cm_client *c, const uint8_t *buf, size_t len, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	while (len > 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			deadline = mono_ms() + timeout_ms;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int64_t left = deadline - mono_ms();
			if (left <= 0)
				return CM_E_DISCONNECTED;
			struct pollfd pfd = { .fd = c->fd, .events = POLLOUT | POLLIN };
			if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
				return CM_E_DISCONNECTED;
			if (pfd.revents & POLLIN) {
				uint64_t before = c->in_read;
				if (!read_some(c, CMC_MAX_FRAME + CMC_FRAME_HDR))
					return CM_E_DISCONNECTED;
				if (c->in_read > before)
					deadline = mono_ms() + timeout_ms;
			}
			continue;
		}
		return CM_E_DISCONNECTED;
	}
	return CM_OK;
}

static int send_msg(cm_client *c, const Callmgr__ClientMsg *m)
{
	if (c->closed || c->disconnected)
		return CM_E_DISCONNECTED;
	size_t n = callmgr__client_msg__get_packed_size(m);
	if (n > CMC_MAX_FRAME)
		return CM_E_TOO_BIG;
	uint8_t stackbuf[512];
	uint8_t *buf = n + CMC_FRAME_HDR <= sizeof(stackbuf) ? stackbuf : malloc(n + CMC_FRAME_HDR);
	if (!buf)
		return CM_E_NOMEM;
	cmc_frame_put_len(buf, n);
	callmgr__client_msg__pack(m, buf + CMC_FRAME_HDR);
	int rc = write_all(c, buf, n + CMC_FRAME_HDR, CM_REQUEST_TIMEOUT_MS);
	if (buf != stackbuf)
		free(buf);
	if (rc != CM_OK)
		set_disconnected(c);
	return rc;
}

/* Descriptors that came with a read (data descriptors, docs/ipc.md). */
static void take_fds(cm_client *c, struct msghdr *mh)
{
	bool got = false;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			fdq_push(c, fd);
			got = true;
		}
	}
	if ((mh->msg_flags & MSG_CTRUNC) && !got)
		fdq_push(c, -1);
}

/* Read what is available.  Returns false on EOF or error (disconnected). */
static bool read_some(cm_client *c, size_t budget)
{
	size_t got = 0;
	while (got < budget) {
		if (c->in_off) {
			/* one move per read, not per frame: a long read-ahead stays linear */
			memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
			c->in_len -= c->in_off;
			c->in_off = 0;
		}
		if (c->in_cap - c->in_len < 16384) {
			size_t ncap = c->in_cap ? c->in_cap * 2 : 65536;
			uint8_t *nb = realloc(c->in, ncap);
			if (!nb)
				return true; /* try again on the next dispatch */
			c->in = nb;
			c->in_cap = ncap;
		}
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(4 * sizeof(int))];
		} ctl;
		struct iovec iov = { c->in + c->in_len, c->in_cap - c->in_len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
				     .msg_controllen = sizeof(ctl.b) };
		ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n > 0) {
			take_fds(c, &mh);
			c->in_len += (size_t)n;
			c->in_read += (uint64_t)n;
			got += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		return false;
	}
	return true;
}

/*
 * The next complete frame, decoded and removed from the buffer.  NULL when
 * none is complete; *bad set when the stream is broken.
 */
static Callmgr__DaemonMsg *next_frame(cm_client *c, bool *bad)
{
	size_t len;
	*bad = false;
	const uint8_t *in = c->in + c->in_off;
	size_t avail = c->in_len - c->in_off;
	switch (cmc_frame_next(in, avail, avail, &len)) {
	case CMC_FRAME_PARTIAL:
		return NULL;
	case CMC_FRAME_TOO_BIG:
		*bad = true;
		return NULL;
	case CMC_FRAME_WHOLE:
		break;
	}
	size_t whole = CMC_FRAME_HDR + len;
	Callmgr__DaemonMsg *m = callmgr__daemon_msg__unpack(NULL, len, in + CMC_FRAME_HDR);
	c->in_off += whole;
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (!m)
		*bad = true;
	return m;
}

/* ---------------------------------------------------------------- messages */

static int status_of(int32_t s)
{
	return s <= 0 && s >= CM_STATUS_MIN ? s : CM_E_PROTO;
}

static void on_completion(cm_client *c, const Callmgr__Completion *m)
{
	struct pending *p = pending_take(c, m->req_id);
	if (!p)
		return; /* not ours (e.g. a Subscribe): nothing waits for it */
	complete(c, p, status_of(m->status), m->vc, m->party);
}

static void on_error(cm_client *c, const Callmgr__Error *e)
{
	if (e->fatal)
		set_disconnected(c);
	struct pending *p = pending_take(c, e->req_id);
	if (p) {
		int st = status_of(e->status);
		complete(c, p, st == CM_OK ? CM_E_PROTO : st, p->vc, p->party);
	}
}

static void handle_msg(cm_client *c, const Callmgr__DaemonMsg *m)
{
	if (m->seq != c->last_seq + 1)
		c->seq_gaps++;
	c->last_seq = m->seq;
	switch (m->body_case) {
	case CALLMGR__DAEMON_MSG__BODY_COMPLETION:
		on_completion(c, m->completion);
		break;
	case CALLMGR__DAEMON_MSG__BODY_ERROR:
		on_error(c, m->error);
		break;
	case CALLMGR__DAEMON_MSG__BODY_INCOMING_DROP_PARTY:
		if (c->ops.incoming_drop_party) {
			const Callmgr__IncomingDropParty *d = m->incoming_drop_party;
			c->ops.incoming_drop_party(c, d->vc, d->party, (int)d->cause,
						   d->data.len ? d->data.data : NULL, d->data.len);
		}
		break;
	case CALLMGR__DAEMON_MSG__BODY_INCOMING_CLOSE_CALL:
		if (c->ops.incoming_close_call) {
			const Callmgr__IncomingCloseCall *d = m->incoming_close_call;
			c->ops.incoming_close_call(c, d->vc, (int)d->cause,
						   d->data.len ? d->data.data : NULL, d->data.len);
		}
		break;
	case CALLMGR__DAEMON_MSG__BODY_INCOMING_CALL:
		if (c->ops.incoming_call) {
			const Callmgr__IncomingCall *d = m->incoming_call;
			char caller[CM_ADDR_HEX_LEN + 1] = "";
			struct cm_call_params params = { CM_CALL_PARAMS_INIT };
			if (d->caller.len == CMC_AESA_LEN)
				cmc_hex_format(d->caller.data, CMC_AESA_LEN, caller);
			if (d->params) {
				params.peak_kbps = d->params->peak_kbps;
				params.max_sdu = d->params->max_sdu;
				params.qos_class = (uint8_t)d->params->qos_class;
			}
			c->ops.incoming_call(c, d->vc, d->party, caller, &params);
		}
		break;
	case CALLMGR__DAEMON_MSG__BODY_DATA_FD: {
		int fd = fdq_pop(c);
		if (c->fdq_broken && fd >= 0) {
			close(fd);
			fd = -1;
		}
		struct pending *p = pending_take(c, m->req_id);
		if (p && p->kind == REQ_DATA_FD)
			complete_fd(c, p, fd);
		else if (fd >= 0)
			close(fd);
		break;
	}
	case CALLMGR__DAEMON_MSG__BODY_CALL_CONNECTED:
		if (c->ops.call_connected)
			c->ops.call_connected(c, m->call_connected->vc, m->call_connected->party);
		break;
	default:
		/* Admin replies, monitor events, and cases a newer daemon adds. */
		break;
	}
}

/* ---------------------------------------------------------------- size-tagged structs */

/*
 * The size of the 0.1 structs: a caller's size must cover at least these,
 * whatever members later releases add.
 */
#define OPS_SIZE_0_1 (offsetof(struct cm_client_ops, call_connected) + sizeof(void (*)(void)))
#define PARAMS_SIZE_0_1 (offsetof(struct cm_call_params, qos_class) + sizeof(uint8_t))

/*
 * A caller built against a newer header may pass a larger ops; callbacks
 * this library does not know would never be called, so a set one is
 * refused rather than silently ignored.
 */
static bool ops_size_ok(const struct cm_client_ops *ops)
{
	/* far more callbacks than any release will have: an uninitialised size */
	if (ops->size < OPS_SIZE_0_1 || ops->size > 128 * sizeof(void (*)(void)))
		return false;
	const unsigned char *extra = (const unsigned char *)ops + sizeof(*ops);
	for (size_t i = 0; i + sizeof(*ops) < ops->size; i++)
		if (extra[i])
			return false;
	return true;
}

/*
 * Into *out (initialised with CM_CALL_PARAMS_INIT) what the caller's size
 * covers; members this library does not know are left to the daemon's
 * defaults.  NULL means all defaults.  False for a size below 0.1's.
 */
static bool params_copy(struct cm_call_params *out, const struct cm_call_params *in)
{
	if (!in)
		return true;
	if (in->size < PARAMS_SIZE_0_1)
		return false;
	memcpy(out, in, in->size < sizeof(*out) ? in->size : sizeof(*out));
	out->size = sizeof(*out);
	return true;
}

/* ---------------------------------------------------------------- public */

static void client_free(cm_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	pending_free_all(c);
	for (size_t i = 0; i < c->fdq_len; i++)
		if (c->fdq[i] >= 0)
			close(c->fdq[i]);
	free(c->fdq);
	free(c->buckets);
	free(c->in);
	free(c);
}

/* Send Hello and wait for HelloReply (or an Error), up to deadline. */
static int hello(cm_client *c, int64_t deadline)
{
	Callmgr__ClientMsg m;
	Callmgr__Hello h;
	cmc_hello_msg(&m, &h, "libcallmgr");
	int rc = send_msg(c, &m);
	if (rc != CM_OK)
		return rc;
	/* the daemon hung up; frames it sent before are still read first */
	bool gone = false;
	for (;;) {
		bool bad;
		Callmgr__DaemonMsg *r = next_frame(c, &bad);
		if (bad)
			return CM_E_PROTO;
		if (r) {
			int st = CM_E_PROTO;
			if (r->body_case == CALLMGR__DAEMON_MSG__BODY_HELLO_REPLY) {
				const Callmgr__HelloReply *hr = r->hello_reply;
				if (cmc_hello_reply_ok(hr)) {
					memcpy(c->prefix, hr->prefix.data, CMC_PREFIX_LEN);
					memcpy(c->esi, hr->esi.data, CMC_ESI_LEN);
					snprintf(c->daemon_version, sizeof(c->daemon_version), "%s",
						 hr->daemon_version ? hr->daemon_version : "");
					c->session = hr->session;
					c->version = hr->version;
					if (hr->party_id_base && hr->party_id_count &&
					    hr->party_id_base <= UINT64_MAX - hr->party_id_count) {
						c->next_party = hr->party_id_base + 1;
						c->last_party = hr->party_id_base + hr->party_id_count;
					}
					c->last_seq = r->seq;
					st = CM_OK;
				}
			} else if (r->body_case == CALLMGR__DAEMON_MSG__BODY_ERROR) {
				st = status_of(r->error->status);
				if (st == CM_OK)
					st = CM_E_PROTO;
			}
			callmgr__daemon_msg__free_unpacked(r, NULL);
			return st;
		}
		if (gone)
			return CM_E_DISCONNECTED;
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return CM_E_TIMEOUT;
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno != EINTR)
			return CM_E_DISCONNECTED;
		if (n > 0) {
			/*
			 * A refusal (max_sessions_per_user: a fatal Error with
			 * CM_E_LIMIT) arrives with the end of file in one read:
			 * the Error is what the caller must see, not the hang-up.
			 */
			uint64_t before = c->in_read;
			if (!read_some(c, CMC_MAX_FRAME + CMC_FRAME_HDR) ||
			    (c->in_read == before && (pfd.revents & (POLLHUP | POLLERR))))
				gone = true;
		}
	}
}

cm_client *cm_client_open(const char *socket_path, const struct cm_client_ops *ops,
			  void *userdata, int *error)
{
	int dummy;
	if (!error)
		error = &dummy;
	int64_t deadline = mono_ms() + CM_OPEN_TIMEOUT_MS;
	socket_path = cmc_socket_path(socket_path);
	if (ops && !ops_size_ok(ops)) {
		*error = CM_E_INVAL;
		return NULL;
	}
	cm_client *c = calloc(1, sizeof(*c));
	if (!c) {
		*error = CM_E_NOMEM;
		return NULL;
	}
	c->fd = -1;
	c->nbuckets = 64;
	c->buckets = calloc(c->nbuckets, sizeof(struct pending *));
	if (!c->buckets) {
		*error = CM_E_NOMEM;
		client_free(c);
		return NULL;
	}
	if (ops)
		memcpy(&c->ops, ops, ops->size < sizeof(c->ops) ? ops->size : sizeof(c->ops));
	c->ops.size = sizeof(c->ops);
	c->userdata = userdata;
	c->fd = cmc_unix_connect(socket_path, CM_OPEN_TIMEOUT_MS);
	if (c->fd < 0) {
		*error = cmc_connect_status(errno);
		client_free(c);
		return NULL;
	}
	int rc = hello(c, deadline);
	if (rc != CM_OK) {
		*error = rc;
		client_free(c);
		return NULL;
	}
	int fl = fcntl(c->fd, F_GETFL);
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		*error = CM_E_DISCONNECTED;
		client_free(c);
		return NULL;
	}
	*error = CM_OK;
	return c;
}

int cm_client_fd(const cm_client *c)
{
	return c ? c->fd : -1;
}

void *cm_client_userdata(const cm_client *c)
{
	return c ? c->userdata : NULL;
}

const char *cm_client_daemon_version(const cm_client *c)
{
	return c ? c->daemon_version : "";
}

const char *cm_library_version(void)
{
	return CALLMGR_VERSION;
}

int cm_client_dispatch(cm_client *c)
{
	if (!c)
		return CM_E_INVAL;
	if (c->closed)
		return CM_OK;
	c->depth++;
	if (!c->eof && !read_some(c, CLIENT_READ_BUDGET))
		set_eof(c);
	/* Frames read before an EOF still count: run them first. */
	while (!c->closed) {
		bool bad;
		Callmgr__DaemonMsg *m = next_frame(c, &bad);
		if (bad) {
			set_eof(c);
			c->in_len = c->in_off = 0;
			break;
		}
		if (!m)
			break;
		handle_msg(c, m);
		callmgr__daemon_msg__free_unpacked(m, NULL);
	}
	if (c->eof && !c->closed)
		fail_all_pending(c);
	int rc = c->eof && !c->closed ? CM_E_DISCONNECTED : CM_OK;
	if (--c->depth == 0 && c->closed)
		client_free(c);
	return rc;
}

void cm_client_close(cm_client *c)
{
	if (!c || c->closed)
		return;
	c->closed = true;
	close(c->fd);
	c->fd = -1;
	c->disconnected = true;
	c->eof = true;
	if (c->depth == 0)
		client_free(c);
}

int cm_client_address(const cm_client *c, uint8_t selector, char *buf, size_t len)
{
	if (!c || !buf || len < CM_ADDR_HEX_LEN + 1)
		return CM_E_INVAL;
	uint8_t a[CMC_AESA_LEN];
	memcpy(a, c->prefix, CMC_PREFIX_LEN);
	memcpy(a + CMC_PREFIX_LEN, c->esi, CMC_ESI_LEN);
	a[CMC_AESA_LEN - 1] = selector;
	cmc_hex_format(a, CMC_AESA_LEN, buf);
	return CM_OK;
}

/* Queue one request; on success the pending entry stays for its completion. */
static int request(cm_client *c, Callmgr__ClientMsg *m, struct pending *p)
{
	if (!p)
		return CM_E_NOMEM;
	m->req_id = p->req_id;
	int rc = send_msg(c, m);
	if (rc != CM_OK) {
		pending_unlink(c, p);
		free(p);
	}
	return rc;
}

static bool usable(const cm_client *c)
{
	return c && !c->closed && !c->disconnected;
}

/* RegisterSap and DeregisterSap: the same one-field message, the same bookkeeping. */
static int sap_request(cm_client *c, uint8_t kind, uint8_t selector, void *req_ctx)
{
	if (!c)
		return CM_E_INVAL;
	if (!usable(c))
		return CM_E_DISCONNECTED;
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__RegisterSap reg = CALLMGR__REGISTER_SAP__INIT;
	Callmgr__DeregisterSap dereg = CALLMGR__DEREGISTER_SAP__INIT;
	reg.selector = dereg.selector = selector;
	if (kind == REQ_REGISTER_SAP) {
		m.body_case = CALLMGR__CLIENT_MSG__BODY_REGISTER_SAP;
		m.register_sap = &reg;
	} else {
		m.body_case = CALLMGR__CLIENT_MSG__BODY_DEREGISTER_SAP;
		m.deregister_sap = &dereg;
	}
	struct pending *p = pending_add(c, kind, req_ctx);
	if (p)
		p->selector = selector;
	return request(c, &m, p);
}

int cm_register_sap(cm_client *c, uint8_t selector, void *req_ctx)
{
	return sap_request(c, REQ_REGISTER_SAP, selector, req_ctx);
}

int cm_deregister_sap(cm_client *c, uint8_t selector, void *req_ctx)
{
	return sap_request(c, REQ_DEREGISTER_SAP, selector, req_ctx);
}

int cm_make_call(cm_client *c, const struct cm_call_params *params, const char *first_party,
		 void *req_ctx)
{
	uint8_t addr[CMC_AESA_LEN];
	struct cm_call_params p = { CM_CALL_PARAMS_INIT };
	if (!c || cmc_aesa_parse(first_party, addr) < 0 || !params_copy(&p, params) ||
	    p.qos_class > 4)
		return CM_E_INVAL;
	if (!usable(c))
		return CM_E_DISCONNECTED;
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__MakeCall r = CALLMGR__MAKE_CALL__INIT;
	Callmgr__CallParams cp = CALLMGR__CALL_PARAMS__INIT;
	cp.peak_kbps = p.peak_kbps;
	cp.max_sdu = p.max_sdu;
	cp.qos_class = p.qos_class;
	r.params = &cp;
	r.party.data = addr;
	r.party.len = sizeof(addr);
	m.body_case = CALLMGR__CLIENT_MSG__BODY_MAKE_CALL;
	m.make_call = &r;
	return request(c, &m, pending_add(c, REQ_MAKE_CALL, req_ctx));
}

int cm_add_party_id(cm_client *c, cm_vc_id vc, const char *party, cm_party_id *party_id,
		    void *req_ctx)
{
	uint8_t addr[CMC_AESA_LEN];
	if (party_id)
		*party_id = 0;
	if (!c || vc == 0 || cmc_aesa_parse(party, addr) < 0)
		return CM_E_INVAL;
	if (!usable(c))
		return CM_E_DISCONNECTED;
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__AddParty r = CALLMGR__ADD_PARTY__INIT;
	r.vc = vc;
	r.party.data = addr;
	r.party.len = sizeof(addr);
	/*
	 * Once the space is used up every later add is refused rather than
	 * numbered by the daemon: a session that named ids names all.
	 */
	if (c->next_party && c->next_party > c->last_party)
		return CM_E_LIMIT;
	r.party_id = c->next_party;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_ADD_PARTY;
	m.add_party = &r;
	struct pending *p = pending_add(c, REQ_ADD_PARTY, req_ctx);
	if (p) {
		p->vc = vc;
		p->party = r.party_id;
	}
	int rc = request(c, &m, p);
	if (rc == CM_OK && r.party_id) {
		/* taken even if the daemon refuses the add: ids only grow */
		c->next_party++;
		if (party_id)
			*party_id = r.party_id;
	}
	return rc;
}

int cm_add_party(cm_client *c, cm_vc_id vc, const char *party, void *req_ctx)
{
	return cm_add_party_id(c, vc, party, NULL, req_ctx);
}

int cm_drop_party(cm_client *c, cm_vc_id vc, cm_party_id party, const void *data, size_t len,
		  void *req_ctx)
{
	if (!c || vc == 0 || party == 0 || (len > 0 && !data))
		return CM_E_INVAL;
	if (len > CM_MAX_DATA)
		return CM_E_TOO_BIG;
	if (!usable(c))
		return CM_E_DISCONNECTED;
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__DropParty r = CALLMGR__DROP_PARTY__INIT;
	r.vc = vc;
	r.party = party;
	r.data.data = (uint8_t *)data;
	r.data.len = len;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_DROP_PARTY;
	m.drop_party = &r;
	struct pending *p = pending_add(c, REQ_DROP_PARTY, req_ctx);
	if (p) {
		p->vc = vc;
		p->party = party;
	}
	return request(c, &m, p);
}

int cm_close_call(cm_client *c, cm_vc_id vc, cm_party_id last_party, const void *data,
		  size_t len, unsigned flags, void *req_ctx)
{
	if (!c || vc == 0 || (flags & ~CM_CLOSE_FORCE) || (len > 0 && !data) ||
	    (last_party == 0 && !(flags & CM_CLOSE_FORCE)))
		return CM_E_INVAL;
	if (len > CM_MAX_DATA)
		return CM_E_TOO_BIG;
	if (!usable(c))
		return CM_E_DISCONNECTED;
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__CloseCall r = CALLMGR__CLOSE_CALL__INIT;
	r.vc = vc;
	r.party = last_party;
	r.data.data = (uint8_t *)data;
	r.data.len = len;
	r.force = (flags & CM_CLOSE_FORCE) != 0;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_CLOSE_CALL;
	m.close_call = &r;
	struct pending *p = pending_add(c, REQ_CLOSE_CALL, req_ctx);
	if (p) {
		p->vc = vc;
		p->party = last_party;
	}
	return request(c, &m, p);
}

/*
 * An accept or a reject: a request with a completion from a daemon of
 * protocol 2 on; an older one answers nothing, so nothing waits for it.
 */
static int answer(cm_client *c, Callmgr__ClientMsg *m, uint8_t kind, cm_vc_id vc,
		  cm_party_id party)
{
	if (c->version < CMC_PROTO_ANSWER_COMPLETES)
		return send_msg(c, m);
	struct pending *p = pending_add(c, kind, NULL);
	if (p) {
		p->vc = vc;
		p->party = party;
	}
	return request(c, m, p);
}

int cm_accept_call(cm_client *c, cm_vc_id vc, cm_party_id party)
{
	if (!c || vc == 0 || party == 0)
		return CM_E_INVAL;
	if (!usable(c))
		return CM_E_DISCONNECTED;
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__AcceptCall r = CALLMGR__ACCEPT_CALL__INIT;
	r.vc = vc;
	r.party = party;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_ACCEPT_CALL;
	m.accept_call = &r;
	return answer(c, &m, REQ_ACCEPT_CALL, vc, party);
}

int cm_reject_call(cm_client *c, cm_vc_id vc, cm_party_id party, int cause)
{
	if (!c || vc == 0 || party == 0 || cause < 1 || cause > 127)
		return CM_E_INVAL;
	if (!usable(c))
		return CM_E_DISCONNECTED;
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__RejectCall r = CALLMGR__REJECT_CALL__INIT;
	r.vc = vc;
	r.party = party;
	r.cause = (uint32_t)cause;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_REJECT_CALL;
	m.reject_call = &r;
	return answer(c, &m, REQ_REJECT_CALL, vc, party);
}

int cm_data_fd(cm_client *c, cm_vc_id vc, void *req_ctx)
{
	if (!c || vc == 0)
		return CM_E_INVAL;
	if (!usable(c))
		return CM_E_DISCONNECTED;
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__GetDataFd r = CALLMGR__GET_DATA_FD__INIT;
	r.vc = vc;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_GET_DATA_FD;
	m.get_data_fd = &r;
	struct pending *p = pending_add(c, REQ_DATA_FD, req_ctx);
	if (p)
		p->vc = vc;
	return request(c, &m, p);
}

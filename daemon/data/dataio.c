/* SPDX-License-Identifier: MIT */
#include "dataio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "dtab.h"
#include "log.h"

#define SDU_BUF 65536 /* max_sdu is at most 65535 (the AAL parameter's 16 bits) */

/* ---------------------------------------------------------------- ends */

struct pcount {
	struct dnode node; /* party id */
	struct dataio_counters c;
};

struct end {
	struct dnode node; /* VC id */
	struct dataio *d;
	uint64_t session;
	bool root;
	bool closing;        /* root: CloseCall taken, sends refused */
	int fd;              /* the daemon's end */
	uint32_t max_sdu;
	struct event *ev;    /* root: readable */
	struct dataio_counters c;
	struct dtab parties; /* root: struct pcount per party */
	/*
	 * Root: an SDU that legs are still owed because the wire had no room;
	 * while there is one the root's descriptor is not read (back-pressure).
	 */
	uint8_t *pend;
	size_t pend_len;
	uint64_t *pend_legs;
	size_t npend;
	struct end *blocked_next; /* on dataio's list while pend is set */
};

struct dataio {
	struct event_base *base;
	cc *cc;
	struct dataio_hooks hooks;
	struct dtab ends;
	struct dataio_stats st;
	struct cc_receiver *rcv;
	size_t rcv_cap;
	struct end *blocked;
	uint8_t buf[SDU_BUF];
};

static struct end *end_find(const struct dataio *d, cm_vc_id vc)
{
	struct dnode *n = dt_find(&d->ends, vc);
	return n ? (struct end *)n : NULL;
}

static void unblock(struct dataio *d, struct end *e)
{
	for (struct end **pp = &d->blocked; *pp; pp = &(*pp)->blocked_next)
		if (*pp == e) {
			*pp = e->blocked_next;
			break;
		}
	free(e->pend);
	free(e->pend_legs);
	e->pend = NULL;
	e->pend_legs = NULL;
	e->npend = 0;
	if (e->ev && !e->closing)
		event_add(e->ev, NULL);
}

static void end_free(struct dataio *d, struct end *e)
{
	if (e->pend)
		unblock(d, e);
	dt_del(&d->ends, &e->node);
	if (e->ev)
		event_free(e->ev);
	close(e->fd);
	for (size_t i = 0; i < e->parties.nb; i++)
		for (struct dnode *n = e->parties.b[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	dt_free(&e->parties);
	free(e);
	d->st.fds--;
}

static struct dataio_counters *party_counters(struct end *root, cm_party_id party)
{
	struct dnode *n = dt_find(&root->parties, party);
	if (n)
		return &((struct pcount *)n)->c;
	struct pcount *p = calloc(1, sizeof(*p));
	if (!p || dt_add(&root->parties, &p->node, party) < 0)
		log_oom("a party's data counters");
	return &p->c;
}

/* ---------------------------------------------------------------- forwarding */

/* One SDU into a leaf end; false when it was lost. */
static bool leaf_send(struct dataio *d, struct end *leaf, const uint8_t *sdu, size_t len)
{
	ssize_t n = send(leaf->fd, sdu, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)len) {
		leaf->c.sdus++;
		leaf->c.octets += len;
		d->st.sdus_out++;
		d->st.octets_out += len;
		return true;
	}
	leaf->c.lost++;
	d->st.sdus_lost++;
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
		/* the client closed its descriptor: it may ask for a new one */
		log_at(LOG_INFO, leaf->node.key, 0, NULL, "leaf descriptor closed by its client");
		end_free(d, leaf);
	}
	return false;
}

static size_t receivers(struct dataio *d, cm_vc_id vc)
{
	for (;;) {
		size_t n = cc_vc_receivers(d->cc, vc, d->rcv, d->rcv_cap);
		if (n < d->rcv_cap)
			return n;
		size_t cap = d->rcv_cap ? d->rcv_cap * 2 : 64;
		struct cc_receiver *r = realloc(d->rcv, cap * sizeof(*r));
		if (!r)
			log_oom("the receivers of an SDU");
		d->rcv = r;
		d->rcv_cap = cap;
	}
}

enum { LEG_LOST, LEG_SENT, LEG_OWED };

/*
 * What became of leg among the first n receivers (parties behind one peer
 * share its leg and get one copy): true and *st when it was tried.
 */
static bool leg_done(const struct dataio *d, size_t n, uint64_t leg, const uint8_t *state,
		     uint8_t *st)
{
	for (size_t j = 0; j < n; j++)
		if (!d->rcv[j].local && d->rcv[j].leg == leg) {
			*st = state[j];
			return true;
		}
	return false;
}

static void count(struct dataio_counters *pc, bool ok, size_t len)
{
	if (!pc)
		return;
	if (ok) {
		pc->sdus++;
		pc->octets += len;
	} else {
		pc->lost++;
	}
}

/* Try one leg: LEG_SENT, LEG_LOST, or LEG_OWED when the wire has no room. */
static uint8_t leg_send(struct dataio *d, cm_vc_id vc, const struct cc_receiver *r,
			const uint8_t *sdu, size_t len)
{
	int rc = d->hooks.wire_send ? d->hooks.wire_send(d->hooks.ctx, vc, r, sdu, len) : -ENOTCONN;
	if (rc == -EAGAIN && d->hooks.wire_wait)
		return LEG_OWED;
	if (rc == 0)
		return LEG_SENT;
	d->st.sdus_lost++;
	return LEG_LOST;
}

/* Keep the SDU for the legs it is owed to, and stop reading the root. */
static void block(struct dataio *d, struct end *root, const uint8_t *sdu, size_t len,
		  const uint64_t *legs, size_t n)
{
	root->pend = malloc(len);
	root->pend_legs = malloc(n * sizeof(*legs));
	if (!root->pend || !root->pend_legs)
		log_oom("an SDU held for a wire that is behind");
	memcpy(root->pend, sdu, len);
	memcpy(root->pend_legs, legs, n * sizeof(*legs));
	root->pend_len = len;
	root->npend = n;
	root->blocked_next = d->blocked;
	d->blocked = root;
	event_del(root->ev);
	d->hooks.wire_wait(d->hooks.ctx);
}

static void forward(struct dataio *d, struct end *root, const uint8_t *sdu, size_t len)
{
	cm_vc_id vc = root->node.key;
	size_t n = receivers(d, vc);
	uint8_t state_small[64], *state = n <= 64 ? state_small : calloc(n, 1);
	uint64_t owed_small[16], *owed = n <= 16 ? owed_small : calloc(n, sizeof(uint64_t));
	size_t nowed = 0;
	if (!state || !owed)
		log_oom("an SDU's receivers");
	for (size_t i = 0; i < n; i++) {
		const struct cc_receiver *r = &d->rcv[i];
		struct dataio_counters *pc = party_counters(root, r->party);
		state[i] = LEG_LOST;
		if (r->leaf_vc) {
			struct end *leaf = end_find(d, r->leaf_vc);
			if (leaf)
				count(pc, leaf_send(d, leaf, sdu, len), len);
			/* else the leaf never asked for its descriptor */
			continue;
		}
		if (r->local)
			continue; /* a local party whose leaf side is not active yet */
		if (!leg_done(d, i, r->leg, state, &state[i])) {
			state[i] = leg_send(d, vc, r, sdu, len);
			if (state[i] == LEG_OWED)
				owed[nowed++] = r->leg;
		}
		if (state[i] != LEG_OWED)
			count(pc, state[i] == LEG_SENT, len); /* owed ones count when sent */
	}
	if (nowed)
		block(d, root, sdu, len, owed, nowed);
	if (state != state_small)
		free(state);
	if (owed != owed_small)
		free(owed);
}

/*
 * The legs a blocked root still owes its SDU: send to those that are still
 * receivers, as long as the wire takes them.  True when nothing is owed.
 */
static bool retry(struct dataio *d, struct end *e, bool give_up)
{
	cm_vc_id vc = e->node.key;
	size_t n = receivers(d, vc), k = 0;
	for (size_t j = 0; j < e->npend; j++) {
		uint64_t leg = e->pend_legs[j];
		size_t first = n;
		for (size_t i = 0; i < n && first == n; i++)
			if (!d->rcv[i].local && d->rcv[i].leg == leg)
				first = i;
		if (first == n)
			continue; /* its parties are gone meanwhile */
		uint8_t st = give_up ? LEG_LOST : leg_send(d, vc, &d->rcv[first], e->pend, e->pend_len);
		if (st == LEG_OWED) {
			e->pend_legs[k++] = leg;
			continue;
		}
		if (give_up)
			d->st.sdus_lost++;
		for (size_t i = first; i < n; i++)
			if (!d->rcv[i].local && d->rcv[i].leg == leg)
				count(party_counters(e, d->rcv[i].party), st == LEG_SENT, e->pend_len);
	}
	e->npend = k;
	if (k)
		return false;
	unblock(d, e);
	return true;
}

void dataio_wire_writable(struct dataio *d)
{
	bool still = false;
	for (struct end *e = d->blocked, *next; e; e = next) {
		next = e->blocked_next; /* retry may take e off the list */
		if (!retry(d, e, false))
			still = true;
	}
	if (still)
		d->hooks.wire_wait(d->hooks.ctx);
}

/*
 * recv() returned 0: an empty record, or the client closed (or shut down)
 * its root descriptor.  Only the second sets RDHUP; POLLIN says nothing
 * here, a seqpacket socket reports it at end of file too.
 */
static bool at_eof(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	if (poll(&p, 1, 0) < 0)
		return true; /* cannot tell: stop reading rather than spin */
	return (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

/*
 * Read up to budget SDUs from a root end and forward them, stopping when
 * the wire has no room.  false: e was freed.  *read: how many were read.
 */
static bool root_read(struct dataio *d, struct end *e, unsigned budget, unsigned *read)
{
	*read = 0;
	for (unsigned i = 0; i < budget && !e->pend; i++, (*read)++) {
		ssize_t n = recv(e->fd, d->buf, sizeof(d->buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return true;
			log_at(LOG_WARNING, e->node.key, 0, NULL, "root descriptor: %s",
			       strerror(errno));
			end_free(d, e);
			return false;
		}
		if (n == 0) {
			if (e->closing || at_eof(e->fd)) {
				/* the root gave its descriptor up; it may ask again */
				if (!e->closing) {
					end_free(d, e);
					return false;
				}
				event_del(e->ev);
				return true;
			}
			d->st.sdus_dropped++; /* an empty SDU would read as end of file */
			continue;
		}
		d->st.sdus_in++;
		d->st.octets_in += (size_t)n;
		e->c.sdus++;
		e->c.octets += (size_t)n;
		if ((size_t)n > e->max_sdu || (size_t)n > sizeof(d->buf)) {
			d->st.sdus_dropped++;
			continue;
		}
		forward(d, e, d->buf, (size_t)n);
	}
	return true;
}

static void root_readable(evutil_socket_t fd, short what, void *arg)
{
	struct end *e = arg;
	unsigned n;
	root_read(e->d, e, DATAIO_ROOT_BUDGET, &n);
}

/* ---------------------------------------------------------------- the API */

struct dataio *dataio_new(struct event_base *base, cc *callctl, const struct dataio_hooks *hooks)
{
	struct dataio *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->base = base;
	d->cc = callctl;
	if (hooks)
		d->hooks = *hooks;
	return d;
}

void dataio_free(struct dataio *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ends.nb; i++)
		while (d->ends.b[i])
			end_free(d, (struct end *)d->ends.b[i]);
	dt_free(&d->ends);
	free(d->rcv);
	free(d);
}

/* Room for this many SDUs queued in a leaf end before losses count. */
static void leaf_sndbuf(int fd, uint32_t max_sdu)
{
	int want = (int)((size_t)DATAIO_LEAF_SDUS * (max_sdu + 512u));
	/* past net.core.wmem_max only with CAP_NET_ADMIN; the plain one is capped */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
}

int dataio_open(struct dataio *d, uint64_t session, cm_vc_id vc, int *client_fd)
{
	struct cc_vc_info vi;
	if (cc_vc_get(d->cc, vc, &vi) != CM_OK || vi.session != session)
		return CM_E_NO_VC;
	if (vi.state != CC_VC_ACTIVE || (!vi.root && !cc_vc_leaf_active(d->cc, vc)))
		return CM_E_STATE;
	if (end_find(d, vc))
		return CM_E_BUSY;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return errno == EMFILE || errno == ENFILE ? CM_E_LIMIT : CM_E_NOMEM;
	struct end *e = calloc(1, sizeof(*e));
	if (!e)
		goto nomem;
	e->d = d;
	e->session = session;
	e->root = vi.root;
	e->fd = sv[0];
	e->max_sdu = vi.max_sdu ? vi.max_sdu : 65535;
	if (e->root) {
		e->ev = event_new(d->base, e->fd, EV_READ | EV_PERSIST, root_readable, e);
		if (!e->ev || event_add(e->ev, NULL) < 0)
			goto nomem;
	} else {
		/* a leaf cannot send: its send() fails with EPIPE */
		if (shutdown(sv[1], SHUT_WR) < 0)
			goto nomem;
		leaf_sndbuf(e->fd, e->max_sdu);
	}
	/* the client's end blocks unless the client says otherwise */
	int fl = fcntl(sv[1], F_GETFL);
	if (fl >= 0)
		(void)fcntl(sv[1], F_SETFL, fl & ~O_NONBLOCK);
	if (dt_add(&d->ends, &e->node, vc) < 0)
		goto nomem;
	d->st.fds++;
	*client_fd = sv[1];
	log_at(LOG_DEBUG, vc, 0, NULL, "session %llu: %s data descriptor given",
	       (unsigned long long)session, e->root ? "root" : "leaf");
	return CM_OK;
nomem:
	if (e && e->ev)
		event_free(e->ev);
	free(e);
	close(sv[0]);
	close(sv[1]);
	return CM_E_NOMEM;
}

/* How long a drain waits for the wire to take what a root wrote. */
#define DRAIN_WAIT_MS 2000
#define DRAIN_STEP_MS 50

void dataio_drain(struct dataio *d, cm_vc_id vc)
{
	struct end *e = end_find(d, vc);
	if (!e || !e->root || e->closing)
		return;
	/*
	 * Everything the root wrote goes out before the request: wait for the
	 * wire when it is full, up to DRAIN_WAIT_MS; what is still owed then
	 * is lost (counted), so a wedged wire cannot wedge call control.
	 */
	for (int waited = 0;;) {
		if (e->pend) {
			while (waited < DRAIN_WAIT_MS && !retry(d, e, false)) {
				if (d->hooks.wire_room)
					d->hooks.wire_room(d->hooks.ctx, DRAIN_STEP_MS);
				waited += DRAIN_STEP_MS;
			}
			if (e->pend)
				retry(d, e, true);
		}
		unsigned n;
		if (!root_read(d, e, DATAIO_ROOT_BUDGET, &n))
			return;
		if (n == 0 && !e->pend)
			return;
	}
}

void dataio_drain_session(struct dataio *d, uint64_t session)
{
	/* Forwarding may free leaf ends anywhere in the table: collect first. */
	size_t n = 0, cap = 0;
	cm_vc_id *vcs = NULL;
	for (size_t i = 0; i < d->ends.nb; i++)
		for (struct dnode *x = d->ends.b[i]; x; x = x->next) {
			const struct end *e = (const struct end *)x;
			if (e->session != session || !e->root || e->closing)
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				cm_vc_id *nv = realloc(vcs, ncap * sizeof(*nv));
				if (!nv)
					log_oom("a session's data to drain");
				vcs = nv;
				cap = ncap;
			}
			vcs[n++] = x->key;
		}
	for (size_t i = 0; i < n; i++)
		dataio_drain(d, vcs[i]);
	free(vcs);
}

void dataio_vc_changed(struct dataio *d, cm_vc_id vc, bool party_gone)
{
	struct end *e = end_find(d, vc);
	if (!e)
		return;
	struct cc_vc_info vi;
	bool exists = cc_vc_get(d->cc, vc, &vi) == CM_OK;
	if (!e->root) {
		if (party_gone || !exists || !cc_vc_leaf_active(d->cc, vc)) {
			log_at(LOG_DEBUG, vc, 0, NULL, "leaf data descriptor ends");
			end_free(d, e); /* queued SDUs stay readable, then end of file */
		}
		return;
	}
	if (!exists) {
		end_free(d, e);
		return;
	}
	if (vi.state == CC_VC_CLOSING && !e->closing) {
		/* the caller drained it before call control took the CloseCall */
		if (e->pend)
			retry(d, e, true); /* not drained in time: lost, counted */
		e->closing = true;
		event_del(e->ev);
		shutdown(e->fd, SHUT_RD); /* the client's send() now fails with EPIPE */
	}
}

void dataio_party_gone(struct dataio *d, cm_vc_id vc, cm_party_id party)
{
	struct end *e = end_find(d, vc);
	struct dnode *n = e && e->root ? dt_find(&e->parties, party) : NULL;
	if (!n)
		return;
	dt_del(&e->parties, n);
	free(n);
}

void dataio_session_closed(struct dataio *d, uint64_t session)
{
	for (size_t i = 0; i < d->ends.nb; i++)
		for (struct dnode *n = d->ends.b[i], *next; n; n = next) {
			next = n->next;
			struct end *e = (struct end *)n;
			if (e->session == session)
				end_free(d, e);
		}
}

void dataio_deliver(struct dataio *d, cm_vc_id leaf_vc, const uint8_t *sdu, size_t len)
{
	struct end *e = end_find(d, leaf_vc);
	if (e && !e->root)
		leaf_send(d, e, sdu, len);
}

void dataio_missed(struct dataio *d, cm_vc_id leaf_vc, uint64_t n)
{
	struct end *e = end_find(d, leaf_vc);
	if (e && !e->root)
		e->c.lost += n;
}

void dataio_party_counters(const struct dataio *d, cm_vc_id vc, cm_party_id party,
			   struct dataio_counters *out)
{
	memset(out, 0, sizeof(*out));
	const struct end *e = end_find(d, vc);
	if (!e)
		return;
	if (!e->root) {
		*out = e->c;
		return;
	}
	const struct dnode *n = dt_find(&e->parties, party);
	if (n)
		*out = ((const struct pcount *)n)->c;
}

void dataio_get_stats(const struct dataio *d, struct dataio_stats *out)
{
	*out = d->st;
}

/* SPDX-License-Identifier: MIT */
#include "ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "callmgr-build.h"
#include "callmgr/client.h"
#include "cm_frame.h"
#include "log.h"

/* A session sending nothing but undecodable frames is not worth keeping. */
#define IPC_MAX_BAD_IN_ROW 32
/* How long a fatal Error may take to reach a client before we just close. */
#define IPC_FLUSH_TIMEOUT_MS 2000
/* Below this an ended session's queued output is still worth delivering. */
#define IPC_FLUSH_MAX (256u * 1024u)
/* Out of descriptors: accepting pauses until a session closes, or this. */
#define IPC_ACCEPT_RETRY_MS 1000
/*
 * Past max_output_total a session holding more than this is held (its
 * requests wait unread) until it reads down to half.  A client that reads
 * holds next to nothing (its output is written in the pass that queued
 * it), so only those that do not read are held; fixed rather than a share
 * of the budget, so that opening more sessions cannot shrink anyone's.
 */
#define IPC_BUDGET_HOLD (64u * 1024u)

/*
 * A frame held back behind one that carries a descriptor (ipc_send_fd):
 * the descriptor must ride on the first octet of its own frame, so that
 * frame is written with sendmsg() once everything before it is out, and
 * every later frame waits behind it here, in order.
 */
struct held {
	struct held *next;
	int fd;                 /* passed with the first octet; -1: a plain frame */
	size_t len;
	uint8_t bytes[];        /* the whole frame, length header included */
};

static void held_write_cb(evutil_socket_t fd, short what, void *arg);

struct session {
	struct ipc *ipc;
	struct ipc_session_info info;
	struct bufferevent *bev;
	uint64_t seq;
	uint64_t lost;          /* monitor events lost since the last EventsLost */
	unsigned bad_in_row;
	bool hello_done;
	bool subscribed;        /* on ipc->subs, or ipc->stalled when stalled */
	bool stalled;           /* its queue was full: off the fan-out until it drains */
	bool user_counted;      /* counted in its uid's sessions (from its hello) */
	uint64_t stall_mark;    /* ipc->mon_events when it stalled */
	struct session *sub_prev, *sub_next;
	struct event *hello_ev; /* absolute hello deadline; NULL once done */
	bool ending;            /* no more input or output; reported or about to be */
	bool flush;             /* deliver what is queued before closing */
	bool dirty;             /* output queued since the last flush_cb */
	bool throttled;         /* output over a bound: its requests wait unread */
	size_t resume_below;    /* throttled: read again once its output is below this */
	struct held *held, *held_tail;
	size_t held_bytes;
	struct event *held_ev;  /* EV_WRITE while a descriptor's frame waits for room */
	char reason[128];       /* why it ended, for the log */
	char name[65];
	struct session *hnext;  /* bucket chain */
	struct session *next;   /* live list, or the reap list once ending */
	struct session *prev;
};

/* Sessions past their hello per uid (max_sessions_per_user). */
#define IPC_UID_BUCKETS 256
struct uid_count {
	struct uid_count *next;
	uid_t uid;
	uint32_t n;
};

struct ipc {
	struct event_base *base;
	struct ipc_config cfg;
	struct ipc_ops ops;
	void *ctx;
	struct evconnlistener *listener;
	char *bound_path;       /* unlinked on close when it is still ours */
	dev_t bound_dev;        /* what we bound, so we never unlink another's */
	ino_t bound_ino;
	/* accepting paused at EMFILE/ENFILE; stopped for good at shutdown */
	struct event *accept_retry_ev;
	bool accept_paused, accept_stopped;
	struct session **buckets;
	size_t nbuckets, nsessions;
	struct session *live;   /* doubly linked: every session */
	/*
	 * Monitor subscribers: those keeping up get each event (encoded once);
	 * a stalled one (its queue full) sits on another list and costs
	 * nothing per event: what it lost is counted from mon_events when it
	 * drains.
	 */
	struct session *subs, *stalled;
	size_t nsubs;
	uint64_t mon_events;
	struct session *reap;   /* ended, waiting for ops.closed */
	struct session *flushing; /* reported, draining their last output */
	struct event *reap_ev;
	/*
	 * Output is written by flush_cb, which runs once per event-loop pass
	 * after the pass's I/O callbacks: one write per session per pass, in
	 * the same pass, and no EV_WRITE (two epoll_ctl and one more
	 * epoll_wait per reply batch) unless the socket is full.
	 */
	struct event *flush_ev;
	uint64_t *dirty;        /* ids of sessions with output queued */
	size_t ndirty, capdirty;
	uint64_t next_id;
	bool closing;
	struct ipc_stats stats;
	/* octets queued to every session, held frames included (max_output_total) */
	size_t out_total;
	size_t nthrottled;
	struct uid_count *uids[IPC_UID_BUCKETS];
};

void ipc_config_defaults(struct ipc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->path = CM_DEFAULT_SOCKET;
	cfg->listen_fd = -1;
	cfg->socket_mode = 0666;
	cfg->max_output = 4u * 1024u * 1024u;
	cfg->max_output_total = 256u * 1024u * 1024u;
	cfg->monitor_output = 512u * 1024u;
	cfg->max_monitors = 64;
	cfg->max_sessions_per_user = 64;
	cfg->hello_timeout_ms = 10000;
}

/* ---------------------------------------------------------------- session table */

static size_t bucket_of(const struct ipc *ipc, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (ipc->nbuckets - 1);
}

static struct session *session_find(const struct ipc *ipc, uint64_t id)
{
	for (struct session *s = ipc->buckets[bucket_of(ipc, id)]; s; s = s->hnext)
		if (s->info.id == id)
			return s;
	return NULL;
}

static int table_grow(struct ipc *ipc)
{
	size_t n = ipc->nbuckets * 2;
	struct session **nb = calloc(n, sizeof(struct session *));
	if (!nb)
		return -1;
	struct session **old = ipc->buckets;
	size_t oldn = ipc->nbuckets;
	ipc->buckets = nb;
	ipc->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct session *s = old[i];
		while (s) {
			struct session *next = s->hnext;
			size_t b = bucket_of(ipc, s->info.id);
			s->hnext = nb[b];
			nb[b] = s;
			s = next;
		}
	}
	free(old);
	return 0;
}

static int table_add(struct ipc *ipc, struct session *s)
{
	if (ipc->nsessions + 1 > ipc->nbuckets && table_grow(ipc) < 0)
		return -1;
	size_t b = bucket_of(ipc, s->info.id);
	s->hnext = ipc->buckets[b];
	ipc->buckets[b] = s;
	ipc->nsessions++;
	s->prev = NULL;
	s->next = ipc->live;
	if (ipc->live)
		ipc->live->prev = s;
	ipc->live = s;
	return 0;
}

static void subs_link(struct session **head, struct session *s)
{
	s->sub_prev = NULL;
	s->sub_next = *head;
	if (*head)
		(*head)->sub_prev = s;
	*head = s;
}

/* Off whichever subscriber list it is on. */
static void subs_remove(struct ipc *ipc, struct session *s)
{
	if (s->sub_prev)
		s->sub_prev->sub_next = s->sub_next;
	else if (s->stalled)
		ipc->stalled = s->sub_next;
	else
		ipc->subs = s->sub_next;
	if (s->sub_next)
		s->sub_next->sub_prev = s->sub_prev;
	s->sub_prev = s->sub_next = NULL;
}

static void subs_unlink(struct ipc *ipc, struct session *s)
{
	if (!s->subscribed)
		return;
	subs_remove(ipc, s);
	s->subscribed = s->stalled = false;
	ipc->nsubs--;
}

static struct uid_count **uid_slot(struct ipc *ipc, uid_t uid)
{
	struct uid_count **pp = &ipc->uids[uid % IPC_UID_BUCKETS];
	while (*pp && (*pp)->uid != uid)
		pp = &(*pp)->next;
	return pp;
}

static void uid_uncount(struct ipc *ipc, struct session *s)
{
	if (!s->user_counted)
		return;
	s->user_counted = false;
	struct uid_count **pp = uid_slot(ipc, s->info.uid);
	struct uid_count *u = *pp;
	if (u && --u->n == 0) {
		*pp = u->next;
		free(u);
	}
}

/*
 * Count the session against its uid; false when the uid has
 * max_sessions_per_user already (root is not bounded) or memory is short.
 */
static bool uid_count(struct ipc *ipc, struct session *s)
{
	if (s->info.uid == 0)
		return true;
	struct uid_count **pp = uid_slot(ipc, s->info.uid);
	if (*pp && ipc->cfg.max_sessions_per_user && (*pp)->n >= ipc->cfg.max_sessions_per_user)
		return false;
	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp)
			return false;
		(*pp)->uid = s->info.uid;
	}
	(*pp)->n++;
	s->user_counted = true;
	return true;
}

static void table_remove(struct ipc *ipc, struct session *s)
{
	subs_unlink(ipc, s);
	uid_uncount(ipc, s);
	struct session **pp = &ipc->buckets[bucket_of(ipc, s->info.id)];
	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
	ipc->nsessions--;
	if (s->prev)
		s->prev->next = s->next;
	else
		ipc->live = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

/* ---------------------------------------------------------------- ending sessions */

static void held_free_all(struct session *s)
{
	while (s->held) {
		struct held *h = s->held;
		s->held = h->next;
		if (h->fd >= 0)
			close(h->fd);
		free(h);
	}
	s->held_tail = NULL;
	s->ipc->out_total -= s->held_bytes;
	s->held_bytes = 0;
}

static void accept_resume(struct ipc *ipc);

/*
 * Every change to a session's output buffer, written or queued, by us or
 * by libevent: keeps ipc->out_total exact without walking the sessions.
 */
static void output_changed_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
			      void *arg)
{
	struct session *s = arg;
	s->ipc->out_total += info->n_added;
	s->ipc->out_total -= info->n_deleted;
}

static void session_unthrottle(struct session *s)
{
	if (!s->throttled)
		return;
	s->throttled = false;
	s->ipc->nthrottled--;
}

static void session_free(struct session *s)
{
	struct ipc *ipc = s->ipc;
	held_free_all(s);
	session_unthrottle(s);
	if (s->held_ev)
		event_free(s->held_ev);
	if (s->hello_ev)
		event_free(s->hello_ev);
	if (s->bev) {
		/* what it leaves unwritten is no longer anyone's to hold */
		struct evbuffer *out = bufferevent_get_output(s->bev);
		evbuffer_remove_cb(out, output_changed_cb, s);
		ipc->out_total -= evbuffer_get_length(out);
		bufferevent_free(s->bev);
	}
	free(s);
	/* a descriptor is free now: a paused listener may take it */
	if (ipc && ipc->accept_paused && !ipc->closing)
		accept_resume(ipc);
}

static void unlink_flushing(struct ipc *ipc, struct session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		ipc->flushing = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

static void flushing_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	unlink_flushing(s->ipc, s);
	session_free(s);
}

static void flushing_event_cb(struct bufferevent *bev, short what, void *arg)
{
	flushing_write_cb(bev, arg);
}

/*
 * End a session: it leaves the table at once (so nothing more is queued to
 * it) and is reported to ops.closed from the reap event, never from the
 * caller's stack, which may be deep inside call control's action list.
 */
static void session_end(struct session *s, const char *reason, bool flush)
{
	struct ipc *ipc = s->ipc;
	if (s->ending)
		return;
	s->ending = true;
	/* callers pass texts on their stack: keep a copy */
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	s->flush = flush;
	bufferevent_disable(s->bev, EV_READ);
	session_unthrottle(s);
	table_remove(ipc, s);
	s->next = ipc->reap;
	ipc->reap = s;
	event_active(ipc->reap_ev, 0, 0);
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc *ipc = arg;
	/* ops.closed may end further sessions (slow readers): loop until none. */
	while (ipc->reap) {
		struct session *s = ipc->reap;
		ipc->reap = s->next;
		s->next = s->prev = NULL;
		int level = strcmp(s->reason, "end of file") == 0 ? LOG_INFO : LOG_NOTICE;
		log_at(level, 0, 0, NULL, "session %llu (%s, uid %u, pid %d) closed: %s",
		       (unsigned long long)s->info.id, s->name, (unsigned)s->info.uid,
		       (int)s->info.pid, s->reason);
		if (s->hello_done && ipc->ops.closed)
			ipc->ops.closed(ipc->ctx, s->info.id, s->reason);
		size_t queued = evbuffer_get_length(bufferevent_get_output(s->bev));
		if (s->flush && queued > 0 && queued <= IPC_FLUSH_MAX) {
			struct timeval tv = { IPC_FLUSH_TIMEOUT_MS / 1000,
					      (IPC_FLUSH_TIMEOUT_MS % 1000) * 1000 };
			bufferevent_setcb(s->bev, NULL, flushing_write_cb, flushing_event_cb, s);
			bufferevent_set_timeouts(s->bev, NULL, &tv);
			bufferevent_enable(s->bev, EV_WRITE);
			s->prev = NULL;
			s->next = ipc->flushing;
			if (ipc->flushing)
				ipc->flushing->prev = s;
			ipc->flushing = s;
		} else {
			session_free(s);
		}
	}
}

/* ---------------------------------------------------------------- output */

static void session_send_lost(struct session *s);
static void monitor_resume(struct session *s);

/*
 * The first held frame carries a descriptor and nothing is in the output
 * buffer: send its first octets with the descriptor, move the rest and the
 * plain frames behind it to the output buffer.  false: the socket is full
 * (held_ev is armed) or the session ended.
 */
static bool session_release_held(struct session *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	struct held *h = s->held;
	size_t off = 0;
	if (h->fd >= 0) {
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int))];
		} ctl;
		memset(&ctl, 0, sizeof(ctl));
		struct iovec iov = { h->bytes, h->len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
				     .msg_controllen = sizeof(ctl.b) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &h->fd, sizeof(int));
		ssize_t n = sendmsg(bufferevent_getfd(s->bev), &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				if (!s->held_ev)
					s->held_ev = event_new(s->ipc->base, bufferevent_getfd(s->bev),
							       EV_WRITE, held_write_cb, s);
				if (s->held_ev && event_add(s->held_ev, NULL) == 0)
					return false;
			}
			session_end(s, "cannot pass a descriptor", false);
			return false;
		}
		close(h->fd);
		h->fd = -1;
		off = (size_t)n;
	}
	/* from here on ordinary output, up to the next descriptor */
	do {
		h = s->held;
		if (evbuffer_add(out, h->bytes + off, h->len - off) < 0)
			log_oom("an event for a client");
		off = 0;
		s->held = h->next;
		if (!s->held)
			s->held_tail = NULL;
		s->held_bytes -= h->len;
		s->ipc->out_total -= h->len;
		free(h);
	} while (s->held && s->held->fd < 0);
	return true;
}

/*
 * Flow control toward a client: a session whose output passed max_output
 * (or IPC_BUDGET_HOLD while all sessions' output is over
 * max_output_total) is not read until its output is below half of that;
 * then what it sent meanwhile is handled (from its own read callback, not
 * from here).
 */
static void session_maybe_resume(struct session *s)
{
	if (!s->throttled || s->ending)
		return;
	size_t queued = evbuffer_get_length(bufferevent_get_output(s->bev)) + s->held_bytes;
	if (queued >= s->resume_below)
		return;
	session_unthrottle(s);
	log_info("session %llu (%s): reading again", (unsigned long long)s->info.id, s->name);
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	bufferevent_enable(s->bev, EV_READ);
	/* frames already read are waiting in the input buffer */
	bufferevent_trigger(s->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* Write what is queued now; leave the rest to libevent if the socket is full. */
static void session_write_now(struct session *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	evutil_socket_t fd = bufferevent_getfd(s->bev);
	for (;;) {
		/* a socket bufferevent freezes its output's front against others draining it */
		evbuffer_unfreeze(out, 1);
		while (evbuffer_get_length(out) > 0)
			if (evbuffer_write(out, fd) <= 0)
				break;
		evbuffer_freeze(out, 1);
		if (evbuffer_get_length(out) > 0) {
			bufferevent_enable(s->bev, EV_WRITE); /* EAGAIN, or an error it reports */
			break;
		}
		if (!s->held || s->ending) {
			monitor_resume(s);
			break;
		}
		if (!session_release_held(s))
			break;
	}
	session_maybe_resume(s);
}

static void held_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	if (!s->ending)
		session_write_now(s);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc *ipc = arg;
	/* the array may grow while this runs (EventsLost), hence the index */
	for (size_t i = 0; i < ipc->ndirty; i++) {
		struct session *s = session_find(ipc, ipc->dirty[i]);
		if (!s || s->ending)
			continue;
		s->dirty = false;
		session_write_now(s);
	}
	ipc->ndirty = 0;
}

static void session_mark_dirty(struct session *s)
{
	struct ipc *ipc = s->ipc;
	if (s->dirty)
		return;
	/* the socket was full: libevent writes when it is writable, and a
	 * write now would only fail again (one syscall per event per slow
	 * reader, which 1,000 stalled monitors made the daemon's main cost) */
	if (bufferevent_get_enabled(s->bev) & EV_WRITE)
		return;
	if (ipc->ndirty == ipc->capdirty) {
		size_t ncap = ipc->capdirty ? ipc->capdirty * 2 : 64;
		uint64_t *nd = realloc(ipc->dirty, ncap * sizeof(*nd));
		if (!nd) {
			bufferevent_enable(s->bev, EV_WRITE); /* libevent writes it instead */
			return;
		}
		ipc->dirty = nd;
		ipc->capdirty = ncap;
	}
	ipc->dirty[ipc->ndirty++] = s->info.id;
	s->dirty = true;
	if (ipc->ndirty == 1)
		event_active(ipc->flush_ev, EV_TIMEOUT, 0);
}

static int session_queue_fd(struct session *s, Callmgr__DaemonMsg *m, bool lossy, int pass_fd);

/*
 * A len-octet frame at the tail of the held queue (see struct held), its
 * octets for the caller to fill; takes fd.  NULL: out of memory.
 */
static struct held *held_append(struct session *s, size_t len, int fd)
{
	struct held *h = malloc(sizeof(*h) + len);
	if (!h) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	h->next = NULL;
	h->fd = fd;
	h->len = len;
	if (s->held_tail)
		s->held_tail->next = h;
	else
		s->held = h;
	s->held_tail = h;
	s->held_bytes += len;
	s->ipc->out_total += len;
	return h;
}

/* Hold a packed frame behind a descriptor's (see struct held); takes fd. */
static int session_hold(struct session *s, Callmgr__DaemonMsg *m, size_t n, int fd)
{
	struct held *h = held_append(s, CMC_FRAME_HDR + n, fd);
	if (!h)
		log_oom("an event for a client");
	cmc_frame_put_len(h->bytes, n);
	callmgr__daemon_msg__pack(m, h->bytes + CMC_FRAME_HDR);
	s->seq++;
	session_mark_dirty(s);
	return 0;
}

/*
 * Stop reading s's requests until its output is below half of mark
 * (session_maybe_resume, from the write callback libevent calls there).
 */
static void session_throttle(struct session *s, size_t queued, size_t mark, const char *why)
{
	log_at_limited(LOG_NOTICE, 0, 0, NULL,
		       "session %llu (%s, pid %d) does not read: %zu octets queued (%s);"
		       " its requests wait until it does",
		       (unsigned long long)s->info.id, s->name, (int)s->info.pid, queued, why);
	s->throttled = true;
	s->ipc->nthrottled++;
	s->ipc->stats.sessions_throttled_total++;
	s->resume_below = mark / 2;
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setwatermark(s->bev, EV_WRITE, s->resume_below, 0);
}

/*
 * Whether a frame of a lossy stream (monitor events) may still queue:
 * under the global budget monitors lose first, before any owner's session
 * is held, so they may fill only three quarters of it.
 */
static bool monitor_room(const struct ipc *ipc, size_t frame)
{
	size_t cap = ipc->cfg.max_output_total;
	return !cap || ipc->out_total + frame <= cap - cap / 4;
}

static int session_queue(struct session *s, Callmgr__DaemonMsg *m, bool lossy)
{
	return session_queue_fd(s, m, lossy, -1);
}

static int session_queue_fd(struct session *s, Callmgr__DaemonMsg *m, bool lossy, int pass_fd)
{
	struct ipc *ipc = s->ipc;
	struct evbuffer *out = bufferevent_get_output(s->bev);
	m->seq = s->seq + 1;
	size_t n = callmgr__daemon_msg__get_packed_size(m);
	if (n > CMC_MAX_FRAME) {
		log_err("session %llu: a %zu-octet reply is over the frame limit; not sent",
			(unsigned long long)s->info.id, n);
		if (pass_fd >= 0)
			close(pass_fd);
		return -1;
	}
	size_t queued = evbuffer_get_length(out) + s->held_bytes;
	size_t frame = CMC_FRAME_HDR + n;
	if (lossy && (queued + frame > ipc->cfg.monitor_output || !monitor_room(ipc, frame)))
		return -1; /* never with a descriptor: monitor events carry none */
	if (!s->throttled) {
		/*
		 * Events to an owner are never dropped (exactly-once) and the
		 * owner is not cut off either: what it has not read is owed
		 * to objects it holds, bounded by them.  What it may still
		 * ask for is not: its requests wait unread until it catches
		 * up (session_maybe_resume), holding back only its own work.
		 */
		if (queued + frame > ipc->cfg.max_output)
			session_throttle(s, queued, ipc->cfg.max_output, "its limit");
		else if (ipc->cfg.max_output_total &&
			 ipc->out_total + frame > ipc->cfg.max_output_total &&
			 queued + frame > IPC_BUDGET_HOLD)
			session_throttle(s, queued, IPC_BUDGET_HOLD,
					 "all sessions' output over max_output_total");
	}
	if (s->held || pass_fd >= 0)
		return session_hold(s, m, n, pass_fd);
	struct evbuffer_iovec v;
	if (evbuffer_reserve_space(out, (ev_ssize_t)(CMC_FRAME_HDR + n), &v, 1) < 1)
		log_oom("an event for a client"); /* the one policy: never lose an owner's event */
	uint8_t *p = v.iov_base;
	cmc_frame_put_len(p, n);
	callmgr__daemon_msg__pack(m, p + CMC_FRAME_HDR);
	v.iov_len = CMC_FRAME_HDR + n;
	evbuffer_commit_space(out, &v, 1);
	s->seq++;
	session_mark_dirty(s);
	return 0;
}

int ipc_send(struct ipc *ipc, uint64_t session, Callmgr__DaemonMsg *m)
{
	struct session *s = session_find(ipc, session);
	if (!s || s->ending)
		return -1;
	return session_queue(s, m, false);
}

int ipc_send_fd(struct ipc *ipc, uint64_t session, Callmgr__DaemonMsg *m, int fd)
{
	struct session *s = session_find(ipc, session);
	if (!s || s->ending) {
		close(fd);
		return -1;
	}
	return session_queue_fd(s, m, false, fd);
}

static int session_error(struct session *s, uint64_t req_id, int status, bool fatal,
			 const char *text)
{
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__Error e = CALLMGR__ERROR__INIT;
	e.req_id = req_id;
	e.status = status;
	e.message = (char *)text;
	e.fatal = fatal;
	m.body_case = CALLMGR__DAEMON_MSG__BODY_ERROR;
	m.error = &e;
	m.req_id = req_id;
	int rc = session_queue(s, &m, false);
	if (fatal)
		session_end(s, text, true);
	return rc;
}

int ipc_send_error(struct ipc *ipc, uint64_t session, uint64_t req_id, int status, bool fatal,
		   const char *fmt, ...)
{
	struct session *s = session_find(ipc, session);
	if (!s || s->ending)
		return -1;
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): started just above */
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return session_error(s, req_id, status, fatal, text);
}

static void session_send_lost(struct session *s)
{
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__EventsLost l = CALLMGR__EVENTS_LOST__INIT;
	l.count = s->lost;
	m.body_case = CALLMGR__DAEMON_MSG__BODY_EVENTS_LOST;
	m.events_lost = &l;
	/* Not lossy: it is what tells the subscriber about the loss. */
	if (session_queue(s, &m, false) == 0)
		s->lost = 0;
}

/*
 * Queue one monitor event encoded once for every subscriber: body is the
 * DaemonMsg packed with seq 0 (absent), and each frame is the seq field
 * (tag 1, a varint) followed by body, which decodes as the same message
 * with that session's seq.  Lossy: a full queue loses the event.
 */
static int session_queue_monitor(struct session *s, const uint8_t *body, size_t n)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	uint8_t seq[11];
	size_t sn = 0;
	seq[sn++] = 0x08; /* field 1, varint */
	for (uint64_t v = s->seq + 1; ; v >>= 7) {
		seq[sn++] = (uint8_t)(v & 0x7f) | (v >= 0x80 ? 0x80 : 0);
		if (v < 0x80)
			break;
	}
	size_t len = sn + n;
	if (evbuffer_get_length(out) + s->held_bytes + CMC_FRAME_HDR + len >
	    s->ipc->cfg.monitor_output)
		return -1;
	/* behind a descriptor's frame, it waits its turn with the others */
	struct held *h = NULL;
	struct evbuffer_iovec v;
	if (s->held) {
		if (!(h = held_append(s, CMC_FRAME_HDR + len, -1)))
			log_oom("a monitor event");
		v.iov_base = h->bytes;
	} else if (evbuffer_reserve_space(out, (ev_ssize_t)(CMC_FRAME_HDR + len), &v, 1) < 1) {
		log_oom("a monitor event");
	}
	uint8_t *p = v.iov_base;
	cmc_frame_put_len(p, len);
	memcpy(p + CMC_FRAME_HDR, seq, sn);
	memcpy(p + CMC_FRAME_HDR + sn, body, n);
	if (!h) {
		v.iov_len = CMC_FRAME_HDR + len;
		evbuffer_commit_space(out, &v, 1);
	}
	s->seq++;
	session_mark_dirty(s);
	return 0;
}

/*
 * After its output was written: a stalled subscriber whose queue is below
 * half gets back on the fan-out, learning what it lost; a subscriber
 * whose EventsLost did not fit before gets it now.
 */
static void monitor_resume(struct session *s)
{
	struct ipc *ipc = s->ipc;
	if (s->ending || !s->subscribed)
		return;
	if (s->stalled) {
		size_t queued = evbuffer_get_length(bufferevent_get_output(s->bev)) + s->held_bytes;
		if (queued >= ipc->cfg.monitor_output / 2)
			return;
		s->lost += ipc->mon_events - s->stall_mark;
		subs_remove(ipc, s);
		s->stalled = false;
		subs_link(&ipc->subs, s);
	}
	if (s->lost > 0)
		session_send_lost(s);
}

void ipc_monitor(struct ipc *ipc, const Callmgr__MonitorEvent *ev)
{
	if (!ipc->subs) {
		ipc->mon_events++; /* every subscriber is stalled: each loses it */
		return;
	}
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	m.body_case = CALLMGR__DAEMON_MSG__BODY_MONITOR_EVENT;
	m.monitor_event = (Callmgr__MonitorEvent *)ev;
	uint8_t small[512], *body = small;
	size_t n = callmgr__daemon_msg__get_packed_size(&m);
	if (n > CMC_MAX_FRAME - 11)
		return;
	/*
	 * All output over three quarters of max_output_total: every
	 * subscriber loses this one, counted as its own (it is not set aside
	 * as a full one is: its queue may be empty, and nothing would bring it
	 * back); its EventsLost goes before the next event that fits.
	 */
	bool room = monitor_room(ipc, CMC_FRAME_HDR + 11 + n);
	if (room) {
		if (n > sizeof(small) && !(body = malloc(n)))
			log_oom("a monitor event"); /* the one policy: losses are only the bounds' */
		callmgr__daemon_msg__pack(&m, body);
	}
	ipc->mon_events++;
	/* the read policy: an event of a session is its user's; others (links)
	 * only operators' */
	const struct session *of = ev->session ? session_find(ipc, ev->session) : NULL;
	uid_t owner = of ? of->info.uid : (uid_t)-1;
	for (struct session *s = ipc->subs, *next; s; s = next) {
		next = s->sub_next;
		if (s->ending || (!s->info.reads_all && (!of || s->info.uid != owner)))
			continue;
		if (!room) {
			s->lost++;
			continue;
		}
		if (s->lost > 0)
			session_send_lost(s);
		if (session_queue_monitor(s, body, n) == 0)
			continue;
		/* full: this event and every one until it drains are lost */
		subs_remove(ipc, s);
		s->stalled = true;
		s->stall_mark = ipc->mon_events - 1;
		subs_link(&ipc->stalled, s);
	}
	if (body != small)
		free(body);
}

static void session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	/* libevent finished what session_write_now could not: back to direct
	 * writes; a throttled session is called here at half, with output left */
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		bufferevent_disable(bev, EV_WRITE);
		if (s->held && !s->ending) {
			session_write_now(s); /* a descriptor waited for the buffer to empty */
			return;
		}
		/* The queue drained: tell a subscriber what it missed, then go on. */
		monitor_resume(s);
	}
	session_maybe_resume(s);
}

/* ---------------------------------------------------------------- input */

static void session_hello(struct session *s, const Callmgr__ClientMsg *m)
{
	struct ipc *ipc = s->ipc;
	if (m->body_case != CALLMGR__CLIENT_MSG__BODY_HELLO) {
		ipc->stats.frames_bad++;
		session_error(s, m->req_id, CM_E_PROTO, true, "the first frame must be Hello");
		return;
	}
	const Callmgr__Hello *h = m->hello;
	if (h->client_name) {
		/* it goes into log lines: nothing but printable ASCII */
		snprintf(s->name, sizeof(s->name), "%s", h->client_name);
		for (char *p = s->name; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				*p = '?';
	}
	uint32_t version = cmc_hello_pick_version(h->min_version, h->max_version);
	if (version == 0) {
		char text[96];
		snprintf(text, sizeof(text),
			 "no common protocol version: client %u..%u, daemon %u..%u", h->min_version,
			 h->max_version, CMC_PROTO_VERSION_MIN, CMC_PROTO_VERSION);
		session_error(s, m->req_id, CM_E_PROTO, true, text);
		return;
	}
	if (!uid_count(ipc, s)) {
		/* each session may hold session_output_bytes: bounded per user */
		ipc->stats.sessions_refused_user++;
		char text[96];
		snprintf(text, sizeof(text), "uid %u has %zu sessions already (max_sessions_per_user)",
			 (unsigned)s->info.uid, ipc->cfg.max_sessions_per_user);
		log_at_limited(LOG_WARNING, 0, 0, NULL, "session %llu: %s",
			       (unsigned long long)s->info.id, text);
		session_error(s, m->req_id, CM_E_LIMIT, true, text);
		return;
	}
	Callmgr__DaemonMsg r = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__HelloReply hr = CALLMGR__HELLO_REPLY__INIT;
	hr.version = version;
	hr.session = s->info.id;
	hr.prefix.data = ipc->cfg.prefix;
	hr.prefix.len = sizeof(ipc->cfg.prefix);
	hr.esi.data = ipc->cfg.esi;
	hr.esi.len = sizeof(ipc->cfg.esi);
	hr.local_mode = ipc->cfg.local_mode;
	hr.daemon_version = (char *)CALLMGR_VERSION;
	hr.party_id_base = cmc_party_id_base(s->info.id);
	hr.party_id_count = hr.party_id_base ? CMC_PARTY_ID_COUNT : 0;
	r.body_case = CALLMGR__DAEMON_MSG__BODY_HELLO_REPLY;
	r.hello_reply = &hr;
	r.req_id = m->req_id;
	if (session_queue(s, &r, false) < 0)
		return;
	s->hello_done = true;
	if (s->hello_ev) {
		event_free(s->hello_ev);
		s->hello_ev = NULL;
	}
	log_info("session %llu: %s, uid %u gid %u pid %d, protocol %u%s",
		 (unsigned long long)s->info.id, s->name, (unsigned)s->info.uid,
		 (unsigned)s->info.gid, (int)s->info.pid, hr.version,
		 s->info.admin ? ", admin" : "");
}

static void session_subscribe(struct session *s, const Callmgr__ClientMsg *m)
{
	struct ipc *ipc = s->ipc;
	if (m->subscribe->enable && !s->subscribed) {
		if (ipc->cfg.max_monitors && ipc->nsubs >= ipc->cfg.max_monitors) {
			ipc->stats.monitors_refused++;
			session_error(s, m->req_id, CM_E_LIMIT, false, "too many monitor subscribers");
			return;
		}
		s->subscribed = true;
		subs_link(&ipc->subs, s);
		ipc->nsubs++;
	} else if (!m->subscribe->enable) {
		subs_unlink(ipc, s);
	}
	s->lost = 0;
	Callmgr__DaemonMsg r = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__Completion c = CALLMGR__COMPLETION__INIT;
	c.req_id = m->req_id;
	c.kind = CALLMGR__REQUEST_KIND__SUBSCRIBE;
	c.status = CM_OK;
	r.req_id = m->req_id;
	r.body_case = CALLMGR__DAEMON_MSG__BODY_COMPLETION;
	r.completion = &c;
	session_queue(s, &r, false);
}

static void session_frame(struct session *s, const uint8_t *p, size_t len)
{
	struct ipc *ipc = s->ipc;
	Callmgr__ClientMsg *m = callmgr__client_msg__unpack(NULL, len, p);
	if (!m) {
		ipc->stats.frames_bad++;
		/*
		 * The length prefix still delimits frames, so one bad frame
		 * costs only itself; before the hello, or when nothing else
		 * comes, the peer is not speaking this protocol at all.
		 */
		bool fatal = !s->hello_done || ++s->bad_in_row >= IPC_MAX_BAD_IN_ROW;
		session_error(s, 0, CM_E_PROTO, fatal,
			      fatal ? "undecodable frames: not a callmgr client"
				    : "undecodable frame ignored");
		return;
	}
	s->bad_in_row = 0;
	if (!s->hello_done) {
		session_hello(s, m);
	} else {
		switch (m->body_case) {
		case CALLMGR__CLIENT_MSG__BODY_HELLO:
			session_error(s, m->req_id, CM_E_PROTO, false, "hello already done");
			break;
		case CALLMGR__CLIENT_MSG__BODY_SUBSCRIBE:
			session_subscribe(s, m);
			break;
		case CALLMGR__CLIENT_MSG__BODY_ADMIN_DROP:
		case CALLMGR__CLIENT_MSG__BODY_ADMIN_CLOSE:
			if (!s->info.admin) {
				session_error(s, m->req_id, CM_E_PERM, false,
					      "admin requests that change state need uid 0 or "
					      "the admin group");
				break;
			}
			/* fall through */
		default:
			/* Unknown cases (a newer client) are refused by the daemon's
			 * dispatcher with CM_E_PROTO, not here, so that one place
			 * knows the list of requests. */
			ipc->ops.request(ipc->ctx, &s->info, m);
			break;
		}
	}
	callmgr__client_msg__free_unpacked(m, NULL);
}

static void session_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	/* Every complete frame of this read, in order, until the session is
	 * throttled (its output over the limit); the rest waits. */
	while (!s->ending && !s->throttled) {
		uint8_t hdr[CMC_FRAME_HDR];
		ev_ssize_t got = evbuffer_copyout(in, hdr, sizeof(hdr));
		size_t len;
		enum cmc_frame_status fs = cmc_frame_next(hdr, got < 0 ? 0 : (size_t)got,
							  evbuffer_get_length(in), &len);
		if (fs == CMC_FRAME_PARTIAL)
			break;
		if (fs == CMC_FRAME_TOO_BIG) {
			s->ipc->stats.frames_bad++;
			char text[96];
			snprintf(text, sizeof(text), "frame of %zu octets is over the %u limit", len,
				 CMC_MAX_FRAME);
			session_error(s, 0, CM_E_PROTO, true, text);
			break;
		}
		const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)(CMC_FRAME_HDR + len));
		if (!p)
			log_oom("a client's request");
		session_frame(s, p + CMC_FRAME_HDR, len);
		evbuffer_drain(in, CMC_FRAME_HDR + len);
	}
}

static void session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	if (what & BEV_EVENT_EOF)
		session_end(s, "end of file", false);
	else if (errno == ECONNRESET || errno == EPIPE)
		session_end(s, "connection reset by the client", false);
	else
		session_end(s, "socket error", false);
}

/*
 * The hello deadline counts from the connect, not from the last byte: a
 * client trickling one byte every few seconds is cut at hello_timeout_ms
 * like a silent one (a read timeout would restart with every byte).
 */
static void hello_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	if (!s->hello_done)
		session_end(s, "no hello in time", false);
}

/*
 * Whether the client is in the admin group: its primary group or any of its
 * supplementary groups as the kernel recorded them at connect
 * (SO_PEERGROUPS, Linux 4.13), so membership comes from the process, not
 * from a lookup of /etc/group that might disagree with it.
 */
static bool peer_in_group(int fd, gid_t primary, gid_t want)
{
	if (primary == want)
		return true;
#ifdef SO_PEERGROUPS
	gid_t small[64];
	gid_t *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE || len == 0 || len > 65536 * sizeof(gid_t))
			return false;
		groups = malloc(len);
		if (!groups || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
			free(groups);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == want)
			found = true;
	if (groups != small)
		free(groups);
	return found;
#else
	return false;
#endif
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct ipc *ipc = arg;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		log_warn("SO_PEERCRED: %s; connection refused", strerror(errno));
		close(fd);
		return;
	}
	struct session *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return;
	}
	s->ipc = ipc;
	s->info.id = ++ipc->next_id;
	s->info.uid = cred.uid;
	s->info.gid = cred.gid;
	s->info.pid = cred.pid;
	s->info.admin = cred.uid == 0 ||
			(ipc->cfg.have_admin_gid && peer_in_group(fd, cred.gid, ipc->cfg.admin_gid));
	s->info.reads_all = s->info.admin || (ipc->cfg.have_operator_gid &&
					      peer_in_group(fd, cred.gid, ipc->cfg.operator_gid));
	snprintf(s->name, sizeof(s->name), "client");
	s->bev = bufferevent_socket_new(ipc->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!s->bev || table_add(ipc, s) < 0) {
		if (s->bev)
			bufferevent_free(s->bev);
		else
			close(fd);
		free(s);
		return;
	}
	bufferevent_set_max_single_read(s->bev, 64 * 1024);
	if (!evbuffer_add_cb(bufferevent_get_output(s->bev), output_changed_cb, s)) {
		session_end(s, "out of memory", false);
		return;
	}
	bufferevent_setcb(s->bev, session_read_cb, session_write_cb, session_event_cb, s);
	if (ipc->cfg.hello_timeout_ms) {
		struct timeval tv = { ipc->cfg.hello_timeout_ms / 1000,
				      (ipc->cfg.hello_timeout_ms % 1000) * 1000 };
		s->hello_ev = evtimer_new(ipc->base, hello_deadline_cb, s);
		if (!s->hello_ev || evtimer_add(s->hello_ev, &tv) < 0) {
			session_end(s, "out of memory", false);
			return;
		}
	}
	/* socket bufferevents start with EV_WRITE enabled; flush_cb writes instead */
	bufferevent_disable(s->bev, EV_WRITE);
	bufferevent_enable(s->bev, EV_READ);
	ipc->stats.sessions_total++;
	log_debug("session %llu: connection from pid %d uid %u", (unsigned long long)s->info.id,
		  (int)cred.pid, (unsigned)cred.uid);
}

static void accept_resume(struct ipc *ipc)
{
	ipc->accept_paused = false;
	evtimer_del(ipc->accept_retry_ev);
	if (!ipc->accept_stopped && ipc->listener) {
		evconnlistener_enable(ipc->listener);
		log_at_limited(LOG_INFO, 0, 0, NULL, "accepting connections again");
	}
}

static void accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	accept_resume(arg);
}

/*
 * Out of descriptors the listening socket stays readable, and accepting
 * again at once fails again: a busy loop that logged each failure.  Stop
 * accepting instead (waiting clients stay in the backlog, or are refused by
 * the kernel once it is full) until a session closes or, as descriptors may
 * free elsewhere, IPC_ACCEPT_RETRY_MS passes; one line per pause.
 */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct ipc *ipc = arg;
	int e = errno;
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		ipc->stats.accept_pauses++;
		evconnlistener_disable(l);
		ipc->accept_paused = true;
		struct timeval tv = { IPC_ACCEPT_RETRY_MS / 1000, (IPC_ACCEPT_RETRY_MS % 1000) * 1000 };
		evtimer_add(ipc->accept_retry_ev, &tv);
		log_at_limited(LOG_WARNING, 0, 0, NULL,
			       "accept: %s; not accepting until a descriptor frees", strerror(e));
		return;
	}
	log_at_limited(LOG_WARNING, 0, 0, NULL, "accept: %s", strerror(e));
}

/* ---------------------------------------------------------------- listener */

static int make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	/* mkdir -p, one component at a time */
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(dir, 0755) < 0) {
		if (errno != EEXIST)
			return -1;
		return 0; /* someone else's: its mode is theirs to choose */
	}
	/* the unit's UMask=0077 would leave it 0700, shutting out every
	 * client but root: the mode docs/ipc.md promises, explicitly */
	return chmod(dir, 0755);
}

/*
 * Whether a daemon is listening at path: a socket file there may be the
 * live socket of another callmgrd (same --socket) or one left by a daemon
 * that died.  Only the second may be replaced.
 */
static bool socket_is_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN;
	close(fd);
	return live;
}

static int bind_socket(const char *path, unsigned mode, struct stat *bound)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (make_parent_dir(path) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A socket left behind by a daemon that died: replace it.  A live one
	 * belongs to another daemon: refuse to start rather than steal it. */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if (socket_is_live(path)) {
			close(fd);
			errno = EADDRINUSE;
			return -1;
		}
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, mode) < 0 ||
	    lstat(path, bound) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct ipc *ipc_open(struct event_base *base, const struct ipc_config *cfg,
		     const struct ipc_ops *ops, void *ctx)
{
	struct ipc *ipc = calloc(1, sizeof(*ipc));
	if (!ipc)
		return NULL;
	ipc->base = base;
	ipc->cfg = *cfg;
	ipc->ops = *ops;
	ipc->ctx = ctx;
	ipc->nbuckets = 64;
	ipc->buckets = calloc(ipc->nbuckets, sizeof(struct session *));
	ipc->reap_ev = event_new(base, -1, 0, reap_cb, ipc);
	ipc->flush_ev = event_new(base, -1, 0, flush_cb, ipc);
	ipc->accept_retry_ev = evtimer_new(base, accept_retry_cb, ipc);
	if (!ipc->buckets || !ipc->reap_ev || !ipc->flush_ev || !ipc->accept_retry_ev)
		goto fail;
	int fd = cfg->listen_fd;
	if (fd < 0) {
		struct stat bound;
		fd = bind_socket(cfg->path, cfg->socket_mode ? cfg->socket_mode : 0666, &bound);
		if (fd < 0)
			goto fail;
		ipc->bound_path = strdup(cfg->path);
		ipc->bound_dev = bound.st_dev;
		ipc->bound_ino = bound.st_ino;
	} else {
		evutil_make_socket_nonblocking(fd);
		evutil_make_socket_closeonexec(fd);
	}
	ipc->listener = evconnlistener_new(base, accept_cb, ipc, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!ipc->listener) {
		close(fd);
		goto fail;
	}
	evconnlistener_set_error_cb(ipc->listener, accept_error_cb);
	ipc->cfg.path = ipc->bound_path;
	return ipc;
fail:;
	int e = errno;
	ipc_close(ipc);
	errno = e ? e : ENOMEM;
	return NULL;
}

void ipc_stop_accepting(struct ipc *ipc)
{
	ipc->accept_stopped = true;
	if (ipc->listener)
		evconnlistener_disable(ipc->listener);
}

int ipc_session_get(const struct ipc *ipc, uint64_t session, struct ipc_session_info *out)
{
	const struct session *s = session_find(ipc, session);
	if (!s)
		return -1;
	*out = s->info;
	return 0;
}

bool ipc_session_in_group(const struct ipc *ipc, uint64_t session, gid_t gid)
{
	const struct session *s = session_find(ipc, session);
	return s && !s->ending && peer_in_group(bufferevent_getfd(s->bev), s->info.gid, gid);
}

size_t ipc_pending_output(const struct ipc *ipc)
{
	size_t n = 0;
	for (struct session *s = ipc->live; s; s = s->next)
		n += evbuffer_get_length(bufferevent_get_output(s->bev)) + s->held_bytes;
	for (struct session *s = ipc->flushing; s; s = s->next)
		n += evbuffer_get_length(bufferevent_get_output(s->bev));
	return n;
}

void ipc_close(struct ipc *ipc)
{
	if (!ipc)
		return;
	ipc->closing = true;
	/* The table goes with them: no need to unlink one by one. */
	for (struct session *s = ipc->live, *next; s; s = next) {
		next = s->next;
		session_free(s);
	}
	ipc->live = NULL;
	while (ipc->reap) {
		struct session *s = ipc->reap;
		ipc->reap = s->next;
		session_free(s);
	}
	while (ipc->flushing) {
		struct session *s = ipc->flushing;
		ipc->flushing = s->next;
		session_free(s);
	}
	if (ipc->listener)
		evconnlistener_free(ipc->listener);
	if (ipc->bound_path) {
		/* only our own socket: another daemon may have replaced it */
		struct stat st;
		if (lstat(ipc->bound_path, &st) == 0 && st.st_dev == ipc->bound_dev &&
		    st.st_ino == ipc->bound_ino)
			unlink(ipc->bound_path);
		free(ipc->bound_path);
	}
	if (ipc->accept_retry_ev)
		event_free(ipc->accept_retry_ev);
	if (ipc->reap_ev)
		event_free(ipc->reap_ev);
	if (ipc->flush_ev)
		event_free(ipc->flush_ev);
	free(ipc->dirty);
	free(ipc->buckets);
	free(ipc);
}

void ipc_get_stats(const struct ipc *ipc, struct ipc_stats *out)
{
	*out = ipc->stats;
	out->sessions = ipc->nsessions;
	out->monitors = ipc->nsubs;
	out->output_queued = ipc->out_total;
	out->sessions_throttled = ipc->nthrottled;
}

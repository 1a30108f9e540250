/* SPDX-License-Identifier: MIT */
/*
 * Call control's own event queue and its refusals at the door.
 *
 * A message to this node's own MAC is the far end of a local leg: it must
 * be handled after the event that sent it, in order, and never by
 * recursion (two local clients would ping-pong forever on the stack).  The
 * same queue takes what the link reports while its caller is still busy
 * carrying out actions.  Queued events own copies of what they point to.
 */
#include <stdlib.h>
#include <string.h>

#include "cc_int.h"

struct qev {
	struct cc_event ev;
	struct q_msg msg;
	struct q_decode_status dec; /* copy of *ev.dec */
	uint8_t *data; /* copy of ev.req.data */
};

struct cc_queue {
	struct qev *v;
	size_t head, n, cap;
};

static int q_push(cc *c, const struct cc_event *ev)
{
	struct cc_queue *q = c->queue;
	if (!q) {
		q = calloc(1, sizeof(*q));
		if (!q)
			return CM_E_NOMEM;
		c->queue = q;
	}
	if (q->n == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 64;
		struct qev *nv = malloc(ncap * sizeof(*nv));
		if (!nv)
			return CM_E_NOMEM;
		for (size_t i = 0; i < q->n; i++)
			nv[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = nv;
		q->cap = ncap;
		q->head = 0;
	}
	struct qev *e = &q->v[(q->head + q->n) % q->cap];
	memset(e, 0, sizeof(*e));
	e->ev = *ev;
	if (ev->type == CC_EV_REQUEST && ev->req.data && ev->req.data_len) {
		e->data = malloc(ev->req.data_len);
		if (!e->data)
			return CM_E_NOMEM;
		memcpy(e->data, ev->req.data, ev->req.data_len);
	}
	/* the pointers are set when it is handled: the slot may move on growth */
	if (ev->msg)
		e->msg = *ev->msg;
	if (ev->dec)
		e->dec = *ev->dec;
	q->n++;
	return CM_OK;
}

int cc_enqueue(cc *c, const struct cc_event *ev)
{
	return q_push(c, ev);
}

size_t cc_queued(const cc *c)
{
	return c->queue ? c->queue->n : 0;
}

int cc_feed(cc *c, const struct cc_event *ev, struct cc_actions *out)
{
	struct qev cur;
	if (!ev) {
		struct cc_queue *q = c->queue;
		if (!q || q->n == 0)
			return CM_OK;
		cur = q->v[q->head];
		q->head = (q->head + 1) % q->cap;
		q->n--;
		if (cur.ev.msg)
			cur.ev.msg = &cur.msg;
		if (cur.ev.dec)
			cur.ev.dec = &cur.dec;
		if (cur.data)
			cur.ev.req.data = cur.data;
		ev = &cur.ev;
	} else {
		cur.data = NULL;
	}
	size_t first = out->n;
	cc_handle(c, ev, out);
	free(cur.data);
	int rc = CM_OK;
	for (size_t i = first; i < out->n; i++) {
		const struct cc_action *a = &out->v[i];
		if (a->type != CC_ACT_SEND || memcmp(a->peer.a, c->cfg.esi.a, 6) != 0)
			continue;
		struct cc_event le = { .type = CC_EV_MESSAGE, .peer = c->cfg.esi, .msg = &a->msg };
		if (q_push(c, &le) != CM_OK)
			rc = CM_E_NOMEM;
	}
	return rc;
}

void cc_queue_free(cc *c)
{
	struct cc_queue *q = c->queue;
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)
		free(q->v[(q->head + i) % q->cap].data);
	free(q->v);
	free(q);
	c->queue = NULL;
}

static void refuse(cc *c, const struct cc_request *r, int status, struct cc_actions *out)
{
	struct cc_action *a = cc_act_push(out);
	a->type = CC_ACT_CLIENT_EVENT;
	a->cev.type = CC_CEV_REFUSED;
	a->cev.session = r->session;
	a->cev.req_id = r->req_id;
	a->cev.status = status;
	a->cev.vc = r->vc;
	a->cev.party = r->party;
	memcpy(a->cev.caller, r->addr, Q_AESA_LEN);
}

bool cc_refuse(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	if (c->shutting_down && r->type != CC_REQ_CLOSE_CALL && r->type != CC_REQ_DROP_PARTY &&
	    r->type != CC_REQ_REJECT_CALL && r->type != CC_REQ_DEREGISTER_SAP) {
		/* clients may still answer the shutdown's releases; nothing new */
		refuse(c, r, CM_E_STATE, out);
		return true;
	}
	if ((r->type == CC_REQ_MAKE_CALL || r->type == CC_REQ_ADD_PARTY) && c->cfg.peer_allowed) {
		/* The link would drop every message to it; say so now rather
		 * than after T303 runs out. */
		const uint8_t *esi = r->addr + 13;
		if (memcmp(esi, c->cfg.esi.a, 6) != 0 &&
		    !c->cfg.peer_allowed(c->cfg.peer_allowed_ctx, esi)) {
			refuse(c, r, CM_E_UNREACHABLE, out);
			return true;
		}
	}
	if (r->type == CC_REQ_MAKE_CALL || r->type == CC_REQ_ADD_PARTY) {
		/* Q.2931 §5.5.1: a peer that never acknowledged our RESTART is out
		 * of service until its link is set up again */
		const struct cc_peer *pe = cc_peer_find(c, cc_aesa_esi(r->addr));
		if (pe && pe->restart == CC_RST_FAILED) {
			refuse(c, r, CM_E_UNREACHABLE, out);
			return true;
		}
	}
	if ((r->type == CC_REQ_MAKE_CALL || r->type == CC_REQ_ADD_PARTY) && c->cfg.peer_busy) {
		/* back-pressure: new work waits until the link has sent what it holds */
		const uint8_t *esi = r->addr + 13;
		if (memcmp(esi, c->cfg.esi.a, 6) != 0 &&
		    c->cfg.peer_busy(c->cfg.peer_busy_ctx, esi)) {
			refuse(c, r, CM_E_BUSY, out);
			return true;
		}
	}
	return false;
}

void cc_ask_link(cc *c, struct cc_mac peer, struct cc_actions *out)
{
	struct cc_action *a = cc_act_push(out);
	a->type = CC_ACT_LINK_ESTABLISH;
	a->peer = peer;
}

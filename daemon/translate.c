/* SPDX-License-Identifier: MIT */
#include "translate.h"

#include <stdio.h>
#include <string.h>

static bool copy_aesa(const ProtobufCBinaryData *b, uint8_t out[Q_AESA_LEN])
{
	if (b->len != Q_AESA_LEN)
		return false;
	memcpy(out, b->data, Q_AESA_LEN);
	return true;
}

int translate_request(const Callmgr__ClientMsg *m, uint64_t session, struct cc_request *r)
{
	memset(r, 0, sizeof(*r));
	r->session = session;
	r->req_id = m->req_id;

	switch (m->body_case) {
	case CALLMGR__CLIENT_MSG__BODY_REGISTER_SAP:
		if (m->register_sap->selector > 255)
			return CM_E_INVAL;
		r->type = CC_REQ_REGISTER_SAP;
		r->selector = (uint8_t)m->register_sap->selector;
		return TR_CC;
	case CALLMGR__CLIENT_MSG__BODY_MAKE_CALL: {
		const Callmgr__CallParams *p = m->make_call->params;
		if (!copy_aesa(&m->make_call->party, r->addr))
			return CM_E_INVAL;
		if (p) {
			if (p->qos_class > 255)
				return CM_E_INVAL;
			r->params.peak_kbps = p->peak_kbps;
			r->params.max_sdu = p->max_sdu;
			r->params.qos_class = (uint8_t)p->qos_class;
		}
		r->type = CC_REQ_MAKE_CALL;
		return TR_CC;
	}
	case CALLMGR__CLIENT_MSG__BODY_ADD_PARTY:
		if (!copy_aesa(&m->add_party->party, r->addr))
			return CM_E_INVAL;
		r->type = CC_REQ_ADD_PARTY;
		r->vc = m->add_party->vc;
		r->party = m->add_party->party_id;
		return TR_CC;
	case CALLMGR__CLIENT_MSG__BODY_DEREGISTER_SAP:
		if (m->deregister_sap->selector > 255)
			return CM_E_INVAL;
		r->type = CC_REQ_DEREGISTER_SAP;
		r->selector = (uint8_t)m->deregister_sap->selector;
		return TR_CC;
	case CALLMGR__CLIENT_MSG__BODY_DROP_PARTY:
		r->type = CC_REQ_DROP_PARTY;
		r->vc = m->drop_party->vc;
		r->party = m->drop_party->party;
		r->data = m->drop_party->data.data;
		r->data_len = m->drop_party->data.len;
		return TR_CC;
	case CALLMGR__CLIENT_MSG__BODY_CLOSE_CALL:
		r->type = CC_REQ_CLOSE_CALL;
		r->vc = m->close_call->vc;
		r->party = m->close_call->party;
		r->data = m->close_call->data.data;
		r->data_len = m->close_call->data.len;
		r->flags = m->close_call->force ? CM_CLOSE_FORCE : 0;
		return TR_CC;
	case CALLMGR__CLIENT_MSG__BODY_ACCEPT_CALL:
		r->type = CC_REQ_ACCEPT_CALL;
		r->vc = m->accept_call->vc;
		r->party = m->accept_call->party;
		return TR_CC;
	case CALLMGR__CLIENT_MSG__BODY_REJECT_CALL:
		if (m->reject_call->cause < 1 || m->reject_call->cause > 127)
			return CM_E_INVAL;
		r->type = CC_REQ_REJECT_CALL;
		r->vc = m->reject_call->vc;
		r->party = m->reject_call->party;
		r->cause = (int)m->reject_call->cause;
		return TR_CC;
	case CALLMGR__CLIENT_MSG__BODY_ADMIN_DROP:
		/* ipc/ has already refused these to anyone but an admin. */
		r->type = CC_REQ_ADMIN_DROP;
		r->vc = m->admin_drop->vc;
		r->party = m->admin_drop->party;
		r->data = m->admin_drop->data.data;
		r->data_len = m->admin_drop->data.len;
		return TR_CC;
	case CALLMGR__CLIENT_MSG__BODY_ADMIN_CLOSE:
		r->type = CC_REQ_ADMIN_CLOSE;
		r->vc = m->admin_close->vc;
		r->flags = m->admin_close->force ? CM_CLOSE_FORCE : 0;
		return TR_CC;
	case CALLMGR__CLIENT_MSG__BODY_GET_STATUS:
	case CALLMGR__CLIENT_MSG__BODY_LIST_VCS:
	case CALLMGR__CLIENT_MSG__BODY_SHOW_VC:
	case CALLMGR__CLIENT_MSG__BODY_LIST_LINKS:
	case CALLMGR__CLIENT_MSG__BODY_GET_STATS:
		return TR_VIEW;
	default:
		return CM_E_PROTO;
	}
}

/* The completion kinds, by client event; 0 for the ones that are not. */
static const struct {
	uint8_t cev;
	Callmgr__RequestKind kind;
	const char *name;
} completions[] = {
	{ CC_CEV_REGISTER_SAP_COMPLETE, CALLMGR__REQUEST_KIND__REGISTER_SAP,
	  "register-sap-complete" },
	{ CC_CEV_MAKE_CALL_COMPLETE, CALLMGR__REQUEST_KIND__MAKE_CALL, "make-call-complete" },
	{ CC_CEV_ADD_PARTY_COMPLETE, CALLMGR__REQUEST_KIND__ADD_PARTY, "add-party-complete" },
	{ CC_CEV_DROP_PARTY_COMPLETE, CALLMGR__REQUEST_KIND__DROP_PARTY, "drop-party-complete" },
	{ CC_CEV_CLOSE_CALL_COMPLETE, CALLMGR__REQUEST_KIND__CLOSE_CALL, "close-call-complete" },
	{ CC_CEV_ADMIN_DROP_COMPLETE, CALLMGR__REQUEST_KIND__ADMIN_DROP, "admin-drop-complete" },
	{ CC_CEV_ADMIN_CLOSE_COMPLETE, CALLMGR__REQUEST_KIND__ADMIN_CLOSE,
	  "admin-close-complete" },
	{ CC_CEV_DEREGISTER_SAP_COMPLETE, CALLMGR__REQUEST_KIND__DEREGISTER_SAP,
	  "deregister-sap-complete" },
	{ CC_CEV_ACCEPT_CALL_COMPLETE, CALLMGR__REQUEST_KIND__ACCEPT_CALL, "accept-call-complete" },
	{ CC_CEV_REJECT_CALL_COMPLETE, CALLMGR__REQUEST_KIND__REJECT_CALL, "reject-call-complete" },
};

static void refusal(const struct cc_client_event *ce, struct translate_msg *o)
{
	const uint8_t *esi = ce->caller + 13;
	callmgr__error__init(&o->err);
	if (ce->status == CM_E_UNREACHABLE)
		snprintf(o->text, sizeof(o->text),
			 "%02x:%02x:%02x:%02x:%02x:%02x is not in allowed_peers", esi[0], esi[1],
			 esi[2], esi[3], esi[4], esi[5]);
	else if (ce->status == CM_E_STATE)
		snprintf(o->text, sizeof(o->text), "the daemon is shutting down");
	else
		snprintf(o->text, sizeof(o->text), "request refused");
	o->err.req_id = ce->req_id;
	o->err.status = ce->status;
	o->err.message = o->text;
	o->m.body_case = CALLMGR__DAEMON_MSG__BODY_ERROR;
	o->m.error = &o->err;
	o->m.req_id = ce->req_id;
}

const char *translate_client_event(const struct cc_client_event *ce, struct translate_msg *o)
{
	callmgr__daemon_msg__init(&o->m);
	for (size_t i = 0; i < sizeof(completions) / sizeof(completions[0]); i++) {
		if (completions[i].cev != ce->type)
			continue;
		callmgr__completion__init(&o->c);
		o->c.kind = completions[i].kind;
		o->c.req_id = ce->req_id;
		o->c.status = ce->status;
		o->c.cause = (uint32_t)ce->cause;
		o->c.vc = ce->vc;
		o->c.party = ce->party;
		o->c.selector = ce->selector;
		o->m.body_case = CALLMGR__DAEMON_MSG__BODY_COMPLETION;
		o->m.completion = &o->c;
		o->m.req_id = ce->req_id;
		return completions[i].name;
	}
	switch (ce->type) {
	case CC_CEV_REFUSED:
		refusal(ce, o);
		return "request-refused";
	case CC_CEV_INCOMING_DROP_PARTY:
		callmgr__incoming_drop_party__init(&o->idp);
		o->idp.vc = ce->vc;
		o->idp.party = ce->party;
		o->idp.cause = (uint32_t)ce->cause;
		o->idp.data.data = (uint8_t *)ce->data;
		o->idp.data.len = ce->data_len;
		o->m.body_case = CALLMGR__DAEMON_MSG__BODY_INCOMING_DROP_PARTY;
		o->m.incoming_drop_party = &o->idp;
		return "incoming-drop-party";
	case CC_CEV_INCOMING_CLOSE_CALL:
		callmgr__incoming_close_call__init(&o->icc);
		o->icc.vc = ce->vc;
		o->icc.cause = (uint32_t)ce->cause;
		o->icc.data.data = (uint8_t *)ce->data;
		o->icc.data.len = ce->data_len;
		o->m.body_case = CALLMGR__DAEMON_MSG__BODY_INCOMING_CLOSE_CALL;
		o->m.incoming_close_call = &o->icc;
		return "incoming-close-call";
	case CC_CEV_INCOMING_CALL:
		callmgr__incoming_call__init(&o->ic);
		callmgr__call_params__init(&o->cp);
		o->ic.vc = ce->vc;
		o->ic.party = ce->party;
		o->ic.caller.data = (uint8_t *)ce->caller;
		o->ic.caller.len = Q_AESA_LEN;
		o->cp.peak_kbps = ce->params.peak_kbps;
		o->cp.max_sdu = ce->params.max_sdu;
		o->cp.qos_class = ce->params.qos_class;
		o->ic.params = &o->cp;
		o->ic.selector = ce->selector;
		o->m.body_case = CALLMGR__DAEMON_MSG__BODY_INCOMING_CALL;
		o->m.incoming_call = &o->ic;
		return "incoming-call";
	case CC_CEV_CALL_CONNECTED:
		callmgr__call_connected__init(&o->conn);
		o->conn.vc = ce->vc;
		o->conn.party = ce->party;
		o->m.body_case = CALLMGR__DAEMON_MSG__BODY_CALL_CONNECTED;
		o->m.call_connected = &o->conn;
		return "call-connected";
	default:
		return NULL;
	}
}

void translate_monitor(Callmgr__MonitorEvent *m, uint64_t time_ms, const char *kind,
		       uint64_t session, uint64_t vc, uint64_t party, int status, int cause,
		       const uint8_t *peer, const char *text)
{
	callmgr__monitor_event__init(m);
	m->time_ms = time_ms;
	m->kind = (char *)kind;
	m->session = session;
	m->vc = vc;
	m->party = party;
	m->status = status;
	m->cause = (uint32_t)cause;
	if (peer) {
		m->peer.data = (uint8_t *)peer;
		m->peer.len = 6;
	}
	m->text = (char *)(text ? text : "");
}

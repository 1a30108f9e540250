/* SPDX-License-Identifier: MIT */
/*
 * libcallmgr against a real callmgrd in local mode.  Each case runs as its
 * own meson test: test_ipc CASE.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "callmgr-build.h"
#include "cm_frame.h"
#include "../ck_run.h"
#include "cm_proto_const.h"
#include "cm_hello_pb.h"
#include "harness.h"

static const struct cm_call_params params = { CM_CALL_PARAMS_INIT, .peak_kbps = 1000,
						.max_sdu = 9188 };

static void register_sap(struct tclient **ts, int n, struct tclient *t, uint8_t sel)
{
	int before = tc_count(t, EV_REGISTER_SAP);
	ck_assert_int_eq(cm_register_sap(t->c, sel, NULL), CM_OK);
	const struct ev *e = tc_wait(ts, n, t, EV_REGISTER_SAP, before + 1, 5000);
	ck_assert_msg(e != NULL, "%s: no RegisterSapComplete", t->name);
	ck_assert_int_eq(e->status, CM_OK);
	ck_assert_uint_eq(e->party, sel);
}

/* MakeCall to sel on this node; returns the completion (status CM_OK). */
static const struct ev *make_call(struct tclient **ts, int n, struct tclient *root, uint8_t sel)
{
	char addr[CM_ADDR_HEX_LEN + 1];
	tc_addr(root, sel, addr);
	int before = tc_count(root, EV_MAKE_CALL);
	ck_assert_int_eq(cm_make_call(root->c, &params, addr, NULL), CM_OK);
	const struct ev *e = tc_wait(ts, n, root, EV_MAKE_CALL, before + 1, 5000);
	ck_assert_msg(e != NULL, "no MakeCallComplete");
	ck_assert_msg(e->status == CM_OK, "MakeCall: %s", cm_strerror(e->status));
	ck_assert_uint_ne(e->vc, 0);
	ck_assert_uint_ne(e->party, 0);
	return e;
}

static const struct ev *add_party(struct tclient **ts, int n, struct tclient *root, cm_vc_id vc,
				  uint8_t sel)
{
	char addr[CM_ADDR_HEX_LEN + 1];
	tc_addr(root, sel, addr);
	int before = tc_count(root, EV_ADD_PARTY);
	ck_assert_int_eq(cm_add_party(root->c, vc, addr, NULL), CM_OK);
	const struct ev *e = tc_wait(ts, n, root, EV_ADD_PARTY, before + 1, 5000);
	ck_assert_msg(e != NULL, "no AddPartyComplete");
	ck_assert_msg(e->status == CM_OK, "AddParty: %s", cm_strerror(e->status));
	ck_assert_uint_eq(e->vc, vc);
	return e;
}

static int drop_party(struct tclient **ts, int n, struct tclient *root, cm_vc_id vc,
		      cm_party_id party, const char *data)
{
	int before = tc_count(root, EV_DROP_PARTY);
	ck_assert_int_eq(cm_drop_party(root->c, vc, party, data, data ? strlen(data) : 0, NULL),
			 CM_OK);
	const struct ev *e = tc_wait(ts, n, root, EV_DROP_PARTY, before + 1, 5000);
	ck_assert_msg(e != NULL, "no DropPartyComplete");
	ck_assert_uint_eq(e->vc, vc);
	ck_assert_uint_eq(e->party, party);
	return e->status;
}

static int close_call(struct tclient **ts, int n, struct tclient *root, cm_vc_id vc,
		      cm_party_id party, const char *data)
{
	int before = tc_count(root, EV_CLOSE_CALL);
	ck_assert_int_eq(cm_close_call(root->c, vc, party, data, data ? strlen(data) : 0, 0, NULL),
			 CM_OK);
	const struct ev *e = tc_wait(ts, n, root, EV_CLOSE_CALL, before + 1, 5000);
	ck_assert_msg(e != NULL, "no CloseCallComplete");
	ck_assert_uint_eq(e->vc, vc);
	return e->status;
}

static void stop_daemon(struct dmn *d)
{
	int rc = dmn_stop(d);
	ck_assert_msg(rc == 0, "callmgrd exited with %d (sanitizer report or unclean stop?)", rc);
}

/* ---------------------------------------------------------------- lifecycle */

START_TEST(lifecycle)
{
	struct dmn d = { 0 };
	dmn_start(&d);
	static struct tclient root, a, b, c;
	struct tclient *ts[] = { &root, &a, &b, &c };
	tc_open(&root, &d, "root");
	tc_open(&a, &d, "a");
	tc_open(&b, &d, "b");
	tc_open(&c, &d, "c");
	register_sap(ts, 4, &a, 1);
	register_sap(ts, 4, &b, 2);
	register_sap(ts, 4, &c, 3);

	/* the address: prefix + ESI 02:00:00:00:00:01 + selector */
	char addr[CM_ADDR_HEX_LEN + 1];
	tc_addr(&root, 0xab, addr);
	ck_assert_uint_eq(strlen(addr), 40);
	ck_assert_str_eq(addr + 26, "020000000001ab");
	ck_assert_int_eq(cm_client_address(root.c, 1, addr, 40), CM_E_INVAL);

	/* the second claim of a selector is refused */
	ck_assert_int_eq(cm_register_sap(b.c, 1, NULL), CM_OK);
	const struct ev *e = tc_wait(ts, 4, &b, EV_REGISTER_SAP, 2, 5000);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->status, CM_E_SAP_IN_USE);

	const struct ev *mc = make_call(ts, 4, &root, 1);
	cm_vc_id vc = mc->vc;
	cm_party_id pa = mc->party;
	ck_assert_ptr_nonnull(tc_wait(ts, 4, &a, EV_CONNECTED, 1, 5000));
	const struct ev *ic = tc_find(&a, EV_INCOMING_CALL, 0);
	ck_assert_ptr_nonnull(ic);
	ck_assert_uint_eq(strlen(ic->caller), 40);

	cm_party_id pb = add_party(ts, 4, &root, vc, 2)->party;
	cm_party_id pc = add_party(ts, 4, &root, vc, 3)->party;
	ck_assert_uint_ne(pb, pa);
	ck_assert_uint_ne(pc, pb);
	ck_assert_ptr_nonnull(tc_wait(ts, 4, &b, EV_CONNECTED, 1, 5000));
	ck_assert_ptr_nonnull(tc_wait(ts, 4, &c, EV_CONNECTED, 1, 5000));

	/* synchronous refusals: nothing is sent, no completion follows */
	char big[CM_MAX_DATA + 1];
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(cm_drop_party(root.c, vc, pb, big, sizeof(big), NULL), CM_E_TOO_BIG);
	ck_assert_int_eq(cm_make_call(root.c, &params, "12345", NULL), CM_E_INVAL);
	ck_assert_int_eq(cm_close_call(root.c, vc, 0, NULL, 0, 0, NULL), CM_E_INVAL);

	/* SPEC §1 rule 2: CloseCall only with one party left */
	ck_assert_int_eq(close_call(ts, 4, &root, vc, pa, NULL), CM_E_PARTIES_REMAIN);

	/* rule 4: data travels to the party before it is dropped */
	ck_assert_int_eq(drop_party(ts, 4, &root, vc, pb, "xyz"), CM_OK);
	e = tc_wait(ts, 4, &b, EV_INCOMING_CLOSE, 1, 5000);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->len, 3);
	ck_assert_mem_eq(e->data, "xyz", 3);
	ck_assert_ptr_nonnull(tc_wait(ts, 4, &b, EV_CLOSE_CALL, 1, 5000));
	/* a party already dropped is no longer there */
	ck_assert_int_ne(drop_party(ts, 4, &root, vc, pb, NULL), CM_OK);

	ck_assert_int_eq(drop_party(ts, 4, &root, vc, pc, NULL), CM_OK);
	ck_assert_ptr_nonnull(tc_wait(ts, 4, &c, EV_INCOMING_CLOSE, 1, 5000));
	/* rule 1: the last party goes with CloseCall, not DropParty */
	ck_assert_int_eq(drop_party(ts, 4, &root, vc, pa, NULL), CM_E_LAST_PARTY);
	ck_assert_int_eq(close_call(ts, 4, &root, vc, pa, "bye"), CM_OK);
	e = tc_wait(ts, 4, &a, EV_INCOMING_CLOSE, 1, 5000);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->len, 3);
	ck_assert_mem_eq(e->data, "bye", 3);
	ck_assert_ptr_nonnull(tc_wait(ts, 4, &a, EV_CLOSE_CALL, 1, 5000));
	/* the VC is gone */
	ck_assert_int_eq(close_call(ts, 4, &root, vc, pa, NULL), CM_E_NO_VC);

	for (int i = 0; i < 4; i++)
		tc_close(ts[i]);
	stop_daemon(&d);
}
END_TEST

/* ---------------------------------------------------------------- chained teardown */

struct chain {
	cm_vc_id vc;
	cm_party_id first;
	cm_party_id rest[8];
	int nrest, next;
	int closes_issued;
};

/* SPEC §1 rule 5: the next DropParty, then CloseCall, from inside DropPartyComplete. */
static void chain_hook(struct tclient *t, const struct ev *e)
{
	struct chain *ch = t->user;
	if (e->type != EV_DROP_PARTY)
		return;
	ck_assert_int_eq(e->status, CM_OK);
	if (ch->next < ch->nrest) {
		ck_assert_int_eq(cm_drop_party(t->c, ch->vc, ch->rest[ch->next++], NULL, 0, NULL),
				 CM_OK);
	} else {
		ck_assert_int_eq(cm_close_call(t->c, ch->vc, ch->first, NULL, 0, 0, NULL), CM_OK);
		ch->closes_issued++;
	}
}

START_TEST(chained_teardown)
{
	struct dmn d = { 0 };
	dmn_start(&d);
	static struct tclient root, l[4];
	struct tclient *ts[] = { &root, &l[0], &l[1], &l[2], &l[3] };
	tc_open(&root, &d, "root");
	for (int i = 0; i < 4; i++) {
		tc_open(&l[i], &d, "leaf");
		register_sap(ts, 5, &l[i], (uint8_t)(10 + i));
	}
	struct chain ch = { 0 };
	const struct ev *mc = make_call(ts, 5, &root, 10);
	ch.vc = mc->vc;
	ch.first = mc->party;
	for (int i = 1; i < 4; i++)
		ch.rest[ch.nrest++] = add_party(ts, 5, &root, ch.vc, (uint8_t)(10 + i))->party;
	root.user = &ch;
	root.hook = chain_hook;
	ck_assert_int_eq(cm_drop_party(root.c, ch.vc, ch.rest[ch.next++], NULL, 0, NULL), CM_OK);
	const struct ev *e = tc_wait(ts, 5, &root, EV_CLOSE_CALL, 1, 5000);
	ck_assert_msg(e != NULL, "the chain did not reach CloseCallComplete");
	ck_assert_int_eq(e->status, CM_OK);
	ck_assert_int_eq(tc_count(&root, EV_DROP_PARTY), 3);
	ck_assert_int_eq(ch.closes_issued, 1);
	/* the close came after every drop */
	ck_assert_int_eq(root.evs[root.nevs - 1].type, EV_CLOSE_CALL);
	for (int i = 0; i < 4; i++)
		ck_assert_ptr_nonnull(tc_wait(ts, 5, &l[i], EV_INCOMING_CLOSE, 1, 5000));
	for (int i = 0; i < 5; i++)
		tc_close(ts[i]);
	stop_daemon(&d);
}
END_TEST

/* ---------------------------------------------------------------- leaf-initiated drop */

/* A daemon, a root and two leaves a and b with SAPs 1 and 2. */
static void root_and_leaves(struct dmn *d, struct tclient **ts)
{
	dmn_start(d);
	tc_open(ts[0], d, "root");
	tc_open(ts[1], d, "a");
	tc_open(ts[2], d, "b");
	register_sap(ts, 3, ts[1], 1);
	register_sap(ts, 3, ts[2], 2);
}

static void close_all(struct dmn *d, struct tclient **ts, int n)
{
	for (int i = 0; i < n; i++)
		tc_close(ts[i]);
	stop_daemon(d);
}

START_TEST(incoming_drop)
{
	struct dmn d = { 0 };
	static struct tclient root, a, b;
	struct tclient *ts[] = { &root, &a, &b };
	root_and_leaves(&d, ts);
	const struct ev *mc = make_call(ts, 3, &root, 1);
	cm_vc_id vc = mc->vc;
	cm_party_id pa = mc->party;
	cm_party_id pb = add_party(ts, 3, &root, vc, 2)->party;
	const struct ev *bic = tc_wait(ts, 3, &b, EV_INCOMING_CALL, 1, 5000);
	ck_assert_ptr_nonnull(bic);
	ck_assert_ptr_nonnull(tc_wait(ts, 3, &b, EV_CONNECTED, 1, 5000));

	/* b leaves on its own, with a note */
	ck_assert_int_eq(cm_close_call(b.c, bic->vc, bic->party, "gone", 4, 0, NULL), CM_OK);
	const struct ev *e = tc_wait(ts, 3, &b, EV_CLOSE_CALL, 1, 5000);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->status, CM_OK);

	/* the root hears it as IncomingDropParty (others remain) and answers */
	e = tc_wait(ts, 3, &root, EV_INCOMING_DROP, 1, 5000);
	ck_assert_msg(e != NULL, "no IncomingDropParty at the root");
	ck_assert_uint_eq(e->vc, vc);
	ck_assert_uint_eq(e->party, pb);
	ck_assert_uint_eq(e->len, 4);
	ck_assert_mem_eq(e->data, "gone", 4);
	e = tc_wait(ts, 3, &root, EV_DROP_PARTY, 1, 5000);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->status, CM_OK);
	ck_assert_uint_eq(e->party, pb);
	ck_assert_int_eq(tc_count(&root, EV_INCOMING_CLOSE), 0);

	ck_assert_int_eq(close_call(ts, 3, &root, vc, pa, NULL), CM_OK);
	ck_assert_ptr_nonnull(tc_wait(ts, 3, &a, EV_INCOMING_CLOSE, 1, 5000));
	close_all(&d, ts, 3);
}
END_TEST

/* ---------------------------------------------------------------- the API a root needs */

START_TEST(root_api)
{
	struct dmn d = { 0 };
	static struct tclient root, a, b;
	struct tclient *ts[] = { &root, &a, &b };
	root_and_leaves(&d, ts);
	b.auto_accept = false; /* what it is offered stays pending */
	const struct ev *mc = make_call(ts, 3, &root, 1);
	cm_vc_id vc = mc->vc;
	/* a's accept completed at once, before the call connected */
	const struct ev *acc = tc_wait(ts, 3, &a, EV_ACCEPT, 1, 5000);
	ck_assert_ptr_nonnull(acc);
	ck_assert_int_eq(acc->status, CM_OK);
	ck_assert_ptr_nonnull(tc_wait(ts, 3, &a, EV_CONNECTED, 1, 5000));
	ck_assert_int_lt(acc - a.evs, tc_find(&a, EV_CONNECTED, 0) - a.evs);

	/* the root knows the id of the party it adds when it asks ... */
	char addr[CM_ADDR_HEX_LEN + 1];
	tc_addr(&root, 2, addr);
	cm_party_id pid = 0;
	ck_assert_int_eq(cm_add_party_id(root.c, vc, addr, &pid, &root), CM_OK);
	ck_assert_uint_ne(pid, 0);
	ck_assert_uint_ne(pid, mc->party);
	const struct ev *bic = tc_wait(ts, 3, &b, EV_INCOMING_CALL, 1, 5000);
	ck_assert_ptr_nonnull(bic);
	ck_assert_int_eq(tc_count(&root, EV_ADD_PARTY), 0); /* b has not answered */
	/* ... so it can cancel the add while b still thinks about it */
	ck_assert_int_eq(cm_drop_party(root.c, vc, pid, NULL, 0, &b), CM_OK);
	const struct ev *ad = tc_wait(ts, 3, &root, EV_ADD_PARTY, 1, 5000);
	ck_assert_ptr_nonnull(ad);
	ck_assert_int_eq(ad->status, CM_E_CLOSING);
	ck_assert_uint_eq(ad->party, pid);
	ck_assert_ptr_eq(ad->ctx, &root);
	const struct ev *dr = tc_wait(ts, 3, &root, EV_DROP_PARTY, 1, 5000);
	ck_assert_ptr_nonnull(dr);
	ck_assert_int_eq(dr->status, CM_OK);
	ck_assert_uint_eq(dr->party, pid);
	ck_assert_ptr_eq(dr->ctx, &b);
	/* b learns the call went away (and closes it); its late accept is refused */
	ck_assert_ptr_nonnull(tc_wait(ts, 3, &b, EV_INCOMING_CLOSE, 1, 5000));
	ck_assert_int_eq(cm_accept_call(b.c, bic->vc, bic->party), CM_OK);
	const struct ev *late = tc_wait(ts, 3, &b, EV_ACCEPT, 1, 5000);
	ck_assert_ptr_nonnull(late);
	ck_assert_int_eq(late->status, CM_E_NO_VC);
	ck_assert_uint_eq(late->vc, bic->vc);
	ck_assert_uint_eq(late->party, bic->party);

	/* cancelled before the daemon even saw the add: both complete, once each */
	int nadd = tc_count(&root, EV_ADD_PARTY), ndrop = tc_count(&root, EV_DROP_PARTY);
	cm_party_id pid2 = 0;
	ck_assert_int_eq(cm_add_party_id(root.c, vc, addr, &pid2, NULL), CM_OK);
	ck_assert_uint_gt(pid2, pid);
	ck_assert_int_eq(cm_drop_party(root.c, vc, pid2, NULL, 0, NULL), CM_OK);
	ad = tc_wait(ts, 3, &root, EV_ADD_PARTY, nadd + 1, 5000);
	dr = tc_wait(ts, 3, &root, EV_DROP_PARTY, ndrop + 1, 5000);
	ck_assert_ptr_nonnull(ad);
	ck_assert_ptr_nonnull(dr);
	ck_assert_int_eq(ad->status, CM_E_CLOSING);
	ck_assert_uint_eq(ad->party, pid2);
	ck_assert_int_eq(dr->status, CM_OK);
	pump_for(ts, 3, 200);
	ck_assert_int_eq(tc_count(&root, EV_ADD_PARTY), nadd + 1);
	ck_assert_int_eq(tc_count(&root, EV_DROP_PARTY), ndrop + 1);

	/* answers to calls that are not offered are refused, clearly */
	ck_assert_int_eq(cm_reject_call(b.c, 999999, 5, 21), CM_OK);
	const struct ev *rj = tc_wait(ts, 3, &b, EV_REJECT, 1, 5000);
	ck_assert_ptr_nonnull(rj);
	ck_assert_int_eq(rj->status, CM_E_NO_VC);
	ck_assert_int_eq(cm_accept_call(a.c, vc, mc->party), CM_OK); /* the root's VC */
	const struct ev *ra = tc_wait(ts, 3, &a, EV_ACCEPT, 2, 5000);
	ck_assert_ptr_nonnull(ra);
	ck_assert_int_eq(ra->status, CM_E_PERM);

	/* SAPs: only the owner gives one back; a call to it is then refused */
	int nd = tc_count(&b, EV_DEREGISTER_SAP);
	ck_assert_int_eq(cm_deregister_sap(b.c, 1, &a), CM_OK);
	const struct ev *ds = tc_wait(ts, 3, &b, EV_DEREGISTER_SAP, nd + 1, 5000);
	ck_assert_ptr_nonnull(ds);
	ck_assert_int_eq(ds->status, CM_E_PERM);
	ck_assert_uint_eq(ds->party, 1);
	ck_assert_ptr_eq(ds->ctx, &a);
	ck_assert_int_eq(cm_deregister_sap(a.c, 1, NULL), CM_OK);
	ds = tc_wait(ts, 3, &a, EV_DEREGISTER_SAP, 1, 5000);
	ck_assert_ptr_nonnull(ds);
	ck_assert_int_eq(ds->status, CM_OK);
	ck_assert_int_eq(cm_deregister_sap(a.c, 1, NULL), CM_OK);
	ds = tc_wait(ts, 3, &a, EV_DEREGISTER_SAP, 2, 5000);
	ck_assert_ptr_nonnull(ds);
	ck_assert_int_eq(ds->status, CM_E_NO_SAP);
	int nmc = tc_count(&root, EV_MAKE_CALL);
	tc_addr(&root, 1, addr);
	ck_assert_int_eq(cm_make_call(root.c, &params, addr, NULL), CM_OK);
	const struct ev *refused = tc_wait(ts, 3, &root, EV_MAKE_CALL, nmc + 1, 5000);
	ck_assert_ptr_nonnull(refused);
	ck_assert_int_eq(refused->status, CM_E_REJECTED);
	ck_assert_int_eq(tc_count(&a, EV_INCOMING_CALL), 1);
	close_all(&d, ts, 3);
}
END_TEST

/* ---------------------------------------------------------------- permissions */

static uint64_t raw_req_id(int fd, Callmgr__ClientMsg *m, uint64_t id)
{
	m->req_id = id;
	raw_send(fd, m);
	return id;
}

/* Subscribe on a raw session, as request id; the answer is left to read. */
static void raw_subscribe(int fd, uint64_t id)
{
	Callmgr__ClientMsg q = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__Subscribe sub = CALLMGR__SUBSCRIBE__INIT;
	sub.enable = true;
	q.body_case = CALLMGR__CLIENT_MSG__BODY_SUBSCRIBE;
	q.subscribe = &sub;
	raw_req_id(fd, &q, id);
}

/* MonitorEvents read until ms pass without a frame. */
static int raw_count_events(int fd, int ms)
{
	bool eof;
	int n = 0;
	Callmgr__DaemonMsg *r;
	while ((r = raw_recv(fd, ms, &eof)) != NULL) {
		n += r->body_case == CALLMGR__DAEMON_MSG__BODY_MONITOR_EVENT;
		callmgr__daemon_msg__free_unpacked(r, NULL);
	}
	return n;
}

/* In a child running as nobody: every attempt on root's VC is refused. */
static int intruder(const struct dmn *d, cm_vc_id vc, cm_party_id party)
{
	if (setgid(65534) < 0 || setuid(65534) < 0)
		return 10;
	static struct tclient x;
	struct tclient *ts[] = { &x };
	tc_open(&x, d, "intruder");
	ck_assert_int_eq(cm_drop_party(x.c, vc, party, NULL, 0, NULL), CM_OK);
	const struct ev *e = tc_wait(ts, 1, &x, EV_DROP_PARTY, 1, 5000);
	if (!e)
		return 11;
	if (e->status != CM_E_PERM)
		return 12;
	ck_assert_int_eq(cm_close_call(x.c, vc, 0, NULL, 0, CM_CLOSE_FORCE, NULL), CM_OK);
	e = tc_wait(ts, 1, &x, EV_CLOSE_CALL, 1, 5000);
	if (!e)
		return 13;
	if (e->status != CM_E_PERM)
		return 14;
	/* admin requests that change state need uid 0 or the admin group */
	int fd = raw_connect(d);
	raw_hello(fd);
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__AdminClose ac = CALLMGR__ADMIN_CLOSE__INIT;
	ac.vc = vc;
	ac.force = true;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_ADMIN_CLOSE;
	m.admin_close = &ac;
	raw_req_id(fd, &m, 77);
	bool eof;
	Callmgr__DaemonMsg *r = raw_recv(fd, 5000, &eof);
	if (!r || r->body_case != CALLMGR__DAEMON_MSG__BODY_ERROR || r->error->req_id != 77 ||
	    r->error->status != CM_E_PERM || r->error->fatal)
		return 15;
	callmgr__daemon_msg__free_unpacked(r, NULL);
	/* nor may it read root's VC (the read policy: owners see theirs) */
	Callmgr__ClientMsg q = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__ShowVc sv = CALLMGR__SHOW_VC__INIT;
	sv.vc = vc;
	q.body_case = CALLMGR__CLIENT_MSG__BODY_SHOW_VC;
	q.show_vc = &sv;
	raw_req_id(fd, &q, 78);
	r = raw_recv(fd, 5000, &eof);
	if (!r || r->body_case != CALLMGR__DAEMON_MSG__BODY_ERROR || r->req_id != 78 ||
	    r->error->status != CM_E_PERM || r->error->fatal)
		return 16;
	callmgr__daemon_msg__free_unpacked(r, NULL);
	Callmgr__ListVcs lv = CALLMGR__LIST_VCS__INIT;
	q.body_case = CALLMGR__CLIENT_MSG__BODY_LIST_VCS;
	q.list_vcs = &lv;
	raw_req_id(fd, &q, 79);
	r = raw_recv(fd, 5000, &eof);
	if (!r || r->body_case != CALLMGR__DAEMON_MSG__BODY_VC_LIST || r->req_id != 79 ||
	    r->vc_list->n_vcs != 0)
		return 17;
	callmgr__daemon_msg__free_unpacked(r, NULL);
	close(fd);
	tc_close(&x);
	return 0;
}

/* A daemon, a client "root" and a client "a" holding SAP 1. */
static void start_pair(struct dmn *d, struct tclient *root, struct tclient *a)
{
	struct tclient *ts[] = { root, a };
	dmn_start(d);
	tc_open(root, d, "root");
	tc_open(a, d, "a");
	register_sap(ts, 2, a, 1);
}

/* A daemon with one client, "a", holding selector 1. */
static void start_one(struct dmn *d, struct tclient *a)
{
	struct tclient *ts[] = { a };
	dmn_start(d);
	tc_open(a, d, "a");
	register_sap(ts, 1, a, 1);
}

/*
 * In a child running as nobody: a monitor subscriber that is not an
 * operator.  Tells the parent it is subscribed (one byte on ready), then
 * counts the MonitorEvents it gets for 1.5 s: its exit status, which must
 * be 0 while only root's sessions act.
 */
static int foreign_monitor(const struct dmn *d, int ready)
{
	if (setgid(65534) < 0 || setuid(65534) < 0)
		return 100;
	int fd = raw_connect(d);
	raw_hello(fd);
	raw_subscribe(fd, 80);
	bool eof;
	Callmgr__DaemonMsg *r = raw_recv(fd, 5000, &eof);
	if (!r || r->body_case != CALLMGR__DAEMON_MSG__BODY_COMPLETION || r->req_id != 80)
		return 101;
	callmgr__daemon_msg__free_unpacked(r, NULL);
	if (write(ready, "r", 1) != 1)
		return 102;
	int seen = raw_count_events(fd, 1500);
	close(fd);
	return seen > 99 ? 99 : seen;
}

/*
 * The read policy for monitors: a subscriber that is not root, admin or
 * operator sees no event of another user's session (a call between two
 * of root's clients here); root's own monitor sees them.
 */
START_TEST(monitor_read_policy)
{
	struct dmn d = { 0 };
	static struct tclient root, a;
	struct tclient *ts[] = { &root, &a };
	start_pair(&d, &root, &a);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		_exit(foreign_monitor(&d, p[1]));
	}
	close(p[1]);
	char b;
	ck_assert_int_eq(read(p[0], &b, 1), 1);
	close(p[0]);
	/* root's monitor, for contrast */
	int fd = raw_connect(&d);
	raw_hello(fd);
	raw_subscribe(fd, 81);
	make_call(ts, 2, &root, 1);
	ck_assert_ptr_nonnull(tc_wait(ts, 2, &a, EV_CONNECTED, 1, 5000));
	int st = 0;
	for (int i = 0; i < 500 && waitpid(pid, &st, WNOHANG) == 0; i++)
		pump_for(ts, 2, 20);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "nobody's monitor: status %d (events of root's sessions seen, or a failure)",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	ck_assert_int_gt(raw_count_events(fd, 300), 0);
	close(fd);
	tc_close(&root);
	tc_close(&a);
	stop_daemon(&d);
}
END_TEST

/* One RegisterSap's status, or 1000 when none came. */
static int sap_status(struct tclient *t, uint8_t sel)
{
	struct tclient *ts[] = { t };
	int before = tc_count(t, EV_REGISTER_SAP);
	if (cm_register_sap(t->c, sel, NULL) != CM_OK)
		return 1000;
	const struct ev *e = tc_wait(ts, 1, t, EV_REGISTER_SAP, before + 1, 5000);
	return e ? e->status : 1000;
}

/*
 * In a child running as nobody with the given supplementary group (0:
 * none): the registrations sap_policy expects.  The exit status says
 * which one went wrong.
 */
static int sap_user(const struct dmn *d, gid_t group)
{
	if (setgroups(group ? 1 : 0, &group) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return 10;
	static struct tclient x;
	tc_open(&x, d, "squatter");
	if (group)
		return sap_status(&x, 20) == CM_OK ? 0 : 11; /* @4242:20 */
	if (sap_status(&x, 10) != CM_OK || sap_status(&x, 11) != CM_OK)
		return 12;
	if (sap_status(&x, 12) != CM_E_PERM || sap_status(&x, 20) != CM_E_PERM)
		return 13;
	tc_close(&x);
	return 0;
}

/*
 * Who may register which selectors: sap_ranges gives uid 65534 selectors
 * 10-11 and group 4242 selector 20; max_saps_per_user 3 bounds the rest.
 * Root registers any.
 */
START_TEST(sap_policy)
{
	struct dmn d = { .conf = "[daemon]\nsap_ranges = 65534:10-11, @4242:20\n" };
	dmn_start(&d);
	for (int i = 0; i < 2; i++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			_exit(sap_user(&d, i ? 4242 : 0));
		int st = 0;
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: status %d", i,
			      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	static struct tclient root;
	tc_open(&root, &d, "root");
	for (int sel = 200; sel < 220; sel++)
		ck_assert_int_eq(sap_status(&root, (uint8_t)sel), CM_OK);
	tc_close(&root);
	stop_daemon(&d);
}
END_TEST

/* In a child running as nobody: two sessions, and a third refused at its hello. */
static int many_sessions(const struct dmn *d)
{
	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return 10;
	int err = 0;
	cm_client *a = cm_client_open(d->sock, NULL, NULL, &err);
	cm_client *b = cm_client_open(d->sock, NULL, NULL, &err);
	if (!a || !b)
		return 11;
	/* raw, to read the Error itself (the library reports the hang-up) */
	int fd = raw_connect(d);
	Callmgr__ClientMsg m;
	Callmgr__Hello h;
	cmc_hello_msg(&m, &h, "third");
	raw_send(fd, &m);
	bool eof;
	Callmgr__DaemonMsg *r = raw_recv(fd, 5000, &eof);
	bool refused = r && r->body_case == CALLMGR__DAEMON_MSG__BODY_ERROR &&
		       r->error->status == CM_E_LIMIT && r->error->fatal;
	if (r)
		callmgr__daemon_msg__free_unpacked(r, NULL);
	close(fd);
	if (!refused)
		return 12;
	/* and the library reports the refusal as such, not as a hang-up */
	err = CM_OK;
	if (cm_client_open(d->sock, NULL, NULL, &err) != NULL)
		return 14;
	if (err != CM_E_LIMIT) {
		fprintf(stderr, "third session refused with %d (%s), not CM_E_LIMIT\n", err,
			cm_strerror(err));
		return 15;
	}
	cm_client *c = NULL;
	/* one goes: room for another */
	cm_client_close(a);
	for (int i = 0; i < 50 && !c; i++) {
		usleep(20000);
		c = cm_client_open(d->sock, NULL, NULL, &err);
	}
	if (!c)
		return 13;
	cm_client_close(b);
	cm_client_close(c);
	return 0;
}

/*
 * max_sessions_per_user bounds what one user's sessions may hold (each up
 * to session_output_bytes): past it a session is refused at its hello
 * with CM_E_LIMIT; root is not bounded.
 */
START_TEST(sessions_per_user)
{
	struct dmn d = { .conf = "[limits]\nmax_sessions_per_user = 2\n" };
	dmn_start(&d);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(many_sessions(&d));
	int st = 0;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "nobody's sessions: status %d",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	static struct tclient r[4];
	for (int i = 0; i < 4; i++)
		tc_open(&r[i], &d, "root");
	for (int i = 0; i < 4; i++)
		tc_close(&r[i]);
	stop_daemon(&d);
}
END_TEST

START_TEST(permissions)
{
	struct dmn d = { 0 };
	static struct tclient root, a;
	struct tclient *ts[] = { &root, &a };
	start_pair(&d, &root, &a);
	const struct ev *mc = make_call(ts, 2, &root, 1);
	cm_vc_id vc = mc->vc;
	cm_party_id pa = mc->party;
	ck_assert_ptr_nonnull(tc_wait(ts, 2, &a, EV_CONNECTED, 1, 5000));

	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(intruder(&d, vc, pa));
	/* keep the clients serviced while the intruder tries */
	int st = 0;
	for (int i = 0; i < 500 && waitpid(pid, &st, WNOHANG) == 0; i++)
		pump_for(ts, 2, 20);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "intruder check failed: status %d",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	pump_for(ts, 2, 100);
	ck_assert_int_eq(tc_count(&a, EV_INCOMING_CLOSE), 0);

	/* root (uid 0) may close anyone's VC with an admin request */
	int fd = raw_connect(&d);
	raw_hello(fd);
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__AdminClose ac = CALLMGR__ADMIN_CLOSE__INIT;
	ac.vc = vc;
	ac.force = true;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_ADMIN_CLOSE;
	m.admin_close = &ac;
	raw_req_id(fd, &m, 5);
	Callmgr__DaemonMsg *r = NULL;
	for (int i = 0; i < 100 && !r; i++) {
		pump_for(ts, 2, 20);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 0) > 0) {
			bool eof;
			r = raw_recv(fd, 1000, &eof);
		}
	}
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_COMPLETION);
	ck_assert_uint_eq(r->completion->req_id, 5);
	ck_assert_int_eq(r->completion->kind, CALLMGR__REQUEST_KIND__ADMIN_CLOSE);
	ck_assert_int_eq(r->completion->status, CM_OK);
	callmgr__daemon_msg__free_unpacked(r, NULL);
	ck_assert_ptr_nonnull(tc_wait(ts, 2, &a, EV_INCOMING_CLOSE, 1, 5000));
	close(fd);
	tc_close(&root);
	tc_close(&a);
	stop_daemon(&d);
}
END_TEST

/* ---------------------------------------------------------------- a client killed mid-call */

START_TEST(client_killed)
{
	struct dmn d = { 0 };
	static struct tclient a;
	struct tclient *ts[] = { &a };
	start_one(&d, &a);
	char addr[CM_ADDR_HEX_LEN + 1];
	tc_addr(&a, 1, addr);

	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int err;
		cm_client *c = cm_client_open(d.sock, NULL, NULL, &err);
		if (!c || cm_make_call(c, &params, addr, NULL) != CM_OK)
			_exit(1);
		for (;;) {
			struct pollfd pfd = { .fd = cm_client_fd(c), .events = POLLIN };
			poll(&pfd, 1, 100);
			cm_client_dispatch(c);
		}
	}
	const struct ev *e = tc_wait(ts, 1, &a, EV_CONNECTED, 1, 5000);
	ck_assert_msg(e != NULL, "the call from the child never connected");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	e = tc_wait(ts, 1, &a, EV_INCOMING_CLOSE, 1, 5000);
	ck_assert_msg(e != NULL, "the dead client's VC was not torn down");
	ck_assert_int_eq(e->cause, 31);
	tc_close(&a);
	stop_daemon(&d);
}
END_TEST

/* ---------------------------------------------------------------- bad input */

static Callmgr__DaemonMsg *expect_error(int fd, bool fatal)
{
	bool eof;
	Callmgr__DaemonMsg *r = raw_recv(fd, 5000, &eof);
	ck_assert_msg(r != NULL, "no Error frame (eof %d)", eof);
	ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_ERROR);
	ck_assert_int_eq(r->error->fatal, fatal);
	ck_assert_int_eq(r->error->status, CM_E_PROTO);
	if (fatal)
		ck_assert_msg(raw_wait_eof(fd, 5000), "the daemon kept a session after a fatal error");
	return r;
}

/* Send m as req_id on a raw session that reads; its answer. */
static Callmgr__DaemonMsg *raw_ask(int fd, Callmgr__ClientMsg *m, uint64_t req_id)
{
	m->req_id = req_id;
	raw_send(fd, m);
	bool eof;
	Callmgr__DaemonMsg *r = raw_recv(fd, 5000, &eof);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->req_id, req_id);
	return r;
}

static void get_status(int fd, uint64_t req_id, uint64_t want_seq)
{
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__GetStatus gs = CALLMGR__GET_STATUS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_GET_STATUS;
	m.get_status = &gs;
	Callmgr__DaemonMsg *r = raw_ask(fd, &m, req_id);
	ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_STATUS);
	ck_assert_uint_eq(r->seq, want_seq);
	ck_assert(r->status->local_mode);
	callmgr__daemon_msg__free_unpacked(r, NULL);
}

START_TEST(bad_frames)
{
	struct dmn d = { 0 };
	static struct tclient root, a;
	struct tclient *ts[] = { &root, &a };
	start_pair(&d, &root, &a);

	/* after the hello, a bad frame costs only itself */
	int good = raw_connect(&d);
	raw_hello(good);
	static const uint8_t garbage[] = { 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff };
	raw_write(good, garbage, sizeof(garbage));
	Callmgr__DaemonMsg *r = expect_error(good, false);
	ck_assert_uint_eq(r->seq, 2);
	callmgr__daemon_msg__free_unpacked(r, NULL);
	/* a request this daemon does not know (field 99): refused, session kept */
	static const uint8_t unknown[] = { 0, 0, 0, 5, 0x08, 0x09, 0x9a, 0x06, 0x00 };
	raw_write(good, unknown, sizeof(unknown));
	r = expect_error(good, false);
	ck_assert_uint_eq(r->error->req_id, 9);
	callmgr__daemon_msg__free_unpacked(r, NULL);
	get_status(good, 10, 4);

	/* before the hello, anything else ends the session */
	int fd = raw_connect(&d);
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__GetStatus gs = CALLMGR__GET_STATUS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_GET_STATUS;
	m.get_status = &gs;
	raw_send(fd, &m);
	callmgr__daemon_msg__free_unpacked(expect_error(fd, true), NULL);
	close(fd);

	fd = raw_connect(&d);
	raw_write(fd, garbage, sizeof(garbage));
	callmgr__daemon_msg__free_unpacked(expect_error(fd, true), NULL);
	close(fd);

	/* no common version */
	fd = raw_connect(&d);
	Callmgr__Hello h = CALLMGR__HELLO__INIT;
	h.min_version = CMC_PROTO_VERSION + 1;
	h.max_version = CMC_PROTO_VERSION + 2;
	Callmgr__ClientMsg hm = CALLMGR__CLIENT_MSG__INIT;
	hm.body_case = CALLMGR__CLIENT_MSG__BODY_HELLO;
	hm.hello = &h;
	raw_send(fd, &hm);
	callmgr__daemon_msg__free_unpacked(expect_error(fd, true), NULL);
	close(fd);

	/* a frame over 64 KiB */
	fd = raw_connect(&d);
	raw_hello(fd);
	static const uint8_t huge[] = { 0x00, 0x10, 0x00, 0x00, 1, 2, 3 };
	raw_write(fd, huge, sizeof(huge));
	callmgr__daemon_msg__free_unpacked(expect_error(fd, true), NULL);
	close(fd);

	/* a truncated frame, then the client goes away */
	fd = raw_connect(&d);
	raw_hello(fd);
	static const uint8_t partial[] = { 0, 0, 0, 100, 0x08, 0x01, 0x12 };
	raw_write(fd, partial, sizeof(partial));
	close(fd);

	/*
	 * nothing but undecodable frames: cut off after a few.  The daemon may
	 * close after the 32nd before we wrote them all, so a write that fails
	 * from then on is the expected end, not an error.
	 */
	fd = raw_connect(&d);
	raw_hello(fd);
	for (int i = 0; i < 40; i++) {
		ssize_t n = send(fd, garbage, sizeof(garbage), MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (n < 0 && i >= 32 && (errno == EPIPE || errno == ECONNRESET))
			break;
		ck_assert_int_eq(n, (ssize_t)sizeof(garbage));
	}
	ck_assert_msg(raw_wait_eof(fd, 5000), "a garbage-only session was kept");
	close(fd);

	/* meanwhile the daemon serves everyone else */
	const struct ev *mc = make_call(ts, 2, &root, 1);
	ck_assert_int_eq(close_call(ts, 2, &root, mc->vc, mc->party, NULL), CM_OK);
	get_status(good, 11, 5);
	close(good);
	tc_close(&root);
	tc_close(&a);
	stop_daemon(&d);
}
END_TEST

/* ---------------------------------------------------------------- a client that never reads */

/* One RegisterSap frame with req_id id; its length. */
static size_t sap_frame(uint8_t *buf, size_t cap, uint64_t id)
{
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__RegisterSap rs = CALLMGR__REGISTER_SAP__INIT;
	rs.selector = 7;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_REGISTER_SAP;
	m.register_sap = &rs;
	m.req_id = id;
	size_t n = callmgr__client_msg__get_packed_size(&m);
	ck_assert_uint_le(n + CMC_FRAME_HDR, cap);
	cmc_frame_put_len(buf, n);
	callmgr__client_msg__pack(&m, buf + CMC_FRAME_HDR);
	return n + CMC_FRAME_HDR;
}

/* A raw session that sends requests and does not read its answers. */
struct nonreader {
	int fd;
	int flags;              /* as it was before O_NONBLOCK */
	uint64_t whole;         /* requests written completely: req_ids 100, 101, ... */
	uint8_t rest[64];       /* the tail of a frame the full socket cut in two */
	size_t rest_len;
};

/*
 * Connect and send RegisterSap requests, never reading, until the daemon
 * stops reading them (the socket stays full for a second), at most
 * 600,000 (about 6 MiB of answers).
 */
static void nonreader_fill(struct nonreader *x, const struct dmn *d)
{
	x->fd = raw_connect(d);
	raw_hello(x->fd);
	x->flags = fcntl(x->fd, F_GETFL);
	ck_assert_int_ge(fcntl(x->fd, F_SETFL, x->flags | O_NONBLOCK), 0);
	enum { MAX_REQS = 600000 };
	uint8_t frame[64];
	bool stalled = false;
	x->whole = 0;
	x->rest_len = 0;
	while (x->whole < MAX_REQS && !stalled) {
		size_t n = sap_frame(frame, sizeof(frame), 100 + x->whole);
		ssize_t w = send(x->fd, frame, n, MSG_NOSIGNAL);
		if (w == (ssize_t)n) {
			x->whole++;
			continue;
		}
		if (w > 0) {
			memcpy(x->rest, frame + w, n - (size_t)w);
			x->rest_len = n - (size_t)w;
			break;
		}
		ck_assert_msg(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
			      "send: %s (the daemon cut the client off?)", strerror(errno));
		struct pollfd pfd = { .fd = x->fd, .events = POLLOUT };
		stalled = poll(&pfd, 1, 1000) == 0;
	}
	if (x->rest_len)
		stalled = true; /* the socket was full mid-frame */
	ck_assert_msg(stalled, "the daemon read all %llu requests without stopping",
		      (unsigned long long)x->whole);
}

/*
 * The non-reader reads again: one answer per request, in order, and no end
 * of file; the frame cut in two is completed, its answer follows, and
 * nothing else (the Status answer's seq counts every frame).  Closes it.
 */
static void nonreader_drain(struct nonreader *x)
{
	ck_assert_int_ge(fcntl(x->fd, F_SETFL, x->flags), 0);
	uint64_t want = 100;
	for (uint64_t i = 0; i < x->whole; i++) {
		bool eof;
		Callmgr__DaemonMsg *r = raw_recv(x->fd, 10000, &eof);
		ck_assert_msg(r != NULL, "answer %llu of %llu: %s", (unsigned long long)i,
			      (unsigned long long)x->whole, eof ? "end of file" : "timeout");
		ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_COMPLETION);
		ck_assert_uint_eq(r->req_id, want++);
		callmgr__daemon_msg__free_unpacked(r, NULL);
	}
	if (x->rest_len)
		raw_write(x->fd, x->rest, x->rest_len);
	get_status(x->fd, 7, x->whole + 2 + (x->rest_len ? 1 : 0));
	close(x->fd);
}

/*
 * A client that asks and asks and does not read (issue 11 item 4): once its
 * output passes the limit the daemon stops reading its requests rather than
 * cutting it off, and serves everyone else meanwhile; read again, every
 * request gets its one answer, in order, and the session goes on.
 */
START_TEST(slow_reader)
{
	struct dmn d = { 0 };
	static struct tclient a;
	start_one(&d, &a);
	long rss0 = dmn_rss_kb(&d);

	struct nonreader x;
	nonreader_fill(&x, &d);
	long rss1 = dmn_rss_kb(&d);
	ck_assert_msg(rss1 - rss0 < 48 * 1024, "daemon RSS grew from %ld to %ld kB", rss0, rss1);

	/* meanwhile the daemon serves others */
	static struct tclient b;
	struct tclient *ts2[] = { &a, &b };
	tc_open(&b, &d, "b");
	register_sap(ts2, 2, &b, 2);

	nonreader_drain(&x);
	tc_close(&b);
	tc_close(&a);
	stop_daemon(&d);
}
END_TEST

/* GetStats on a raw session that reads. */
static Callmgr__DaemonMsg *get_stats(int fd, uint64_t req_id)
{
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__GetStats gs = CALLMGR__GET_STATS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_GET_STATS;
	m.get_stats = &gs;
	Callmgr__DaemonMsg *r = raw_ask(fd, &m, req_id);
	ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_STATS);
	return r;
}

/* raw_subscribe, and its answer read and checked; the answer's seq. */
static uint64_t subscribe_ok(int fd, uint64_t req_id)
{
	raw_subscribe(fd, req_id);
	bool eof;
	Callmgr__DaemonMsg *r = raw_recv(fd, 5000, &eof);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->req_id, req_id);
	ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_COMPLETION);
	ck_assert_int_eq(r->completion->kind, CALLMGR__REQUEST_KIND__SUBSCRIBE);
	ck_assert_int_eq(r->completion->status, CM_OK);
	uint64_t seq = r->seq;
	callmgr__daemon_msg__free_unpacked(r, NULL);
	return seq;
}

/*
 * max_output_total (issue 13): several sessions that do not read, none
 * near its own session_output_bytes (4 MiB), are held once all output
 * passes the budget; a client that reads is served meanwhile; nobody is
 * cut off, and when they read, each gets every answer once, in order.
 */
enum { BUDGET = 256 * 1024, NONREADERS = 4 };
START_TEST(output_budget)
{
	struct dmn d = { 0 };
	char conf[96];
	snprintf(conf, sizeof(conf), "[limits]\nmax_output_total = %d\n", BUDGET);
	dmn_start_conf(&d, conf);
	static struct tclient a;
	struct tclient *ts[] = { &a };
	tc_open(&a, &d, "a");
	register_sap(ts, 1, &a, 1);
	int g = raw_connect(&d);
	raw_hello(g);

	static struct nonreader x[NONREADERS];
	for (int i = 0; i < NONREADERS; i++)
		nonreader_fill(&x[i], &d);

	Callmgr__DaemonMsg *r = get_stats(g, 2);
	uint64_t queued = r->stats->output_queued;
	uint64_t held = r->stats->sessions_throttled;
	callmgr__daemon_msg__free_unpacked(r, NULL);
	/* every one held by the budget, not by its own limit: each holds more
	 * than 64 KiB but nowhere near 4 MiB */
	ck_assert_uint_eq(held, NONREADERS);
	ck_assert_uint_ge(queued, BUDGET);
	/* the budget, and past it at most 64 KiB (and one answer) each */
	ck_assert_msg(queued <= BUDGET + NONREADERS * (64 * 1024 + 1024),
		      "%llu octets queued", (unsigned long long)queued);

	/* a client that reads is served at once meanwhile; a monitor, past
	 * three quarters of the budget, loses the event (before any owner) */
	int mon = raw_connect(&d);
	raw_hello(mon);
	uint64_t seq = subscribe_ok(mon, 2);
	register_sap(ts, 1, &a, 2);
	get_status(g, 3, 3); /* Hello, Stats, this */
	bool eof;
	r = raw_recv(mon, 300, &eof);
	ck_assert_msg(r == NULL && !eof, "a monitor event queued over the budget");

	for (int i = 0; i < NONREADERS; i++)
		nonreader_drain(&x[i]);
	/* the monitor: first told what it lost, then the stream goes on */
	register_sap(ts, 1, &a, 3);
	bool told = false, sap3 = false;
	while ((r = raw_recv(mon, 1000, &eof)) != NULL) {
		ck_assert_uint_eq(r->seq, ++seq);
		if (!told) {
			ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_EVENTS_LOST);
			ck_assert_uint_ge(r->events_lost->count, 1);
			told = true;
		}
		sap3 |= r->body_case == CALLMGR__DAEMON_MSG__BODY_MONITOR_EVENT &&
			strcmp(r->monitor_event->kind, "register-sap-complete") == 0 &&
			r->monitor_event->status == CM_OK;
		callmgr__daemon_msg__free_unpacked(r, NULL);
	}
	ck_assert(!eof);
	ck_assert_msg(told && sap3, "the monitor got no EventsLost (%d) or no event after it (%d)",
		      told, sap3);
	/* all read: nothing left queued or held (the count is exact) */
	r = get_stats(g, 5);
	ck_assert_uint_eq(r->stats->output_queued, 0);
	ck_assert_uint_eq(r->stats->sessions_throttled, 0);
	ck_assert_uint_ge(r->stats->sessions_throttled_total, NONREADERS);
	ck_assert_uint_eq(r->stats->sessions_dropped_slow, 0);
	callmgr__daemon_msg__free_unpacked(r, NULL);
	close(mon);
	close(g);
	tc_close(&a);
	stop_daemon(&d);
}
END_TEST

/* ---------------------------------------------------------------- an owner that stops reading */

enum { BULK = 10000 };

/* Counters of the two clients of owner_stops_reading. */
static struct bulk {
	cm_vc_id vc;
	int made, added, added_ok, connected, closes_ok, drops_in, close_in, answers_ok;
	int answers_bad;
	bool disconnected;
	cm_vc_id leaf_vc[BULK];
	cm_party_id leaf_party[BULK];
	cm_party_id root_party[BULK];        /* the root's parties, as completed */
	int nroot;
	unsigned char dropped[BULK]; /* IncomingDropParty count, by index in root_party */
} bk;

static void bk_make(cm_client *c, int status, cm_vc_id vc, cm_party_id p, void *ctx)
{
	bk.made = status == CM_OK ? 1 : -1;
	bk.vc = vc;
	bk.root_party[bk.nroot++] = p;
}

static void bk_add(cm_client *c, int status, cm_vc_id vc, cm_party_id p, void *ctx)
{
	bk.added++;
	bk.added_ok += status == CM_OK;
	if (status == CM_OK && bk.nroot < BULK)
		bk.root_party[bk.nroot++] = p;
}

static void bk_incoming_drop(cm_client *c, cm_vc_id vc, cm_party_id party, int cause,
			     const void *data, size_t len)
{
	bk.drops_in++;
	/* party ids come from the session's own space: found by value */
	int i = 0;
	while (i < bk.nroot && bk.root_party[i] != party)
		i++;
	ck_assert_msg(i < bk.nroot, "IncomingDropParty for party %llu, not the root's",
		      (unsigned long long)party);
	bk.dropped[i]++;
}

static void bk_incoming_close(cm_client *c, cm_vc_id vc, int cause, const void *data, size_t len)
{
	bk.close_in++;
}

static void bk_answer(cm_client *c, int status, cm_vc_id vc, cm_party_id p, void *ctx)
{
	if (status == CM_OK)
		bk.answers_ok++;
	else
		bk.answers_bad++;
	bk.disconnected |= status == CM_E_DISCONNECTED;
}

static void bk_close_answer(cm_client *c, int status, cm_vc_id vc, void *ctx)
{
	bk_answer(c, status, vc, 0, ctx);
}

static void bk_leaf_call(cm_client *c, cm_vc_id vc, cm_party_id party, const char *caller,
			 const struct cm_call_params *p)
{
	ck_assert_int_eq(cm_accept_call(c, vc, party), CM_OK);
}

static void bk_leaf_connected(cm_client *c, cm_vc_id vc, cm_party_id party)
{
	ck_assert_int_lt(bk.connected, BULK);
	bk.leaf_vc[bk.connected] = vc;
	bk.leaf_party[bk.connected] = party;
	bk.connected++;
}

static void bk_leaf_closed(cm_client *c, int status, cm_vc_id vc, void *ctx)
{
	bk.closes_ok += status == CM_OK;
}

#define dispatch_until(c1, c2, count, want, ms) dispatch_until_(c1, c2, count, want, ms, #count)
static void dispatch_until_(cm_client *c1, cm_client *c2, const int *count, int want, int ms,
			    const char *what)
{
	for (int i = 0; i < ms && *count < want; i++) {
		struct pollfd pfd[2] = { { .fd = cm_client_fd(c1), .events = POLLIN },
					 { .fd = c2 ? cm_client_fd(c2) : -1, .events = POLLIN } };
		poll(pfd, 2, 1);
		ck_assert_int_ne(cm_client_dispatch(c1), CM_E_DISCONNECTED);
		if (c2)
			ck_assert_int_ne(cm_client_dispatch(c2), CM_E_DISCONNECTED);
	}
	ck_assert_msg(*count >= want, "waited for %d %s, have %d", want, what, *count);
}

/*
 * Issue 11 item 4: the owner of a VC with 10,000 parties stops reading
 * while the other end drops every one of them.  Its output passes the
 * (small) limit; it is not cut off, and when it reads again it gets every
 * IncomingDropParty exactly once, answers them all with CM_OK, and nothing
 * is left.
 */
START_TEST(owner_stops_reading)
{
	struct dmn d = { 0 };
	/* the adds go out faster than the leaf answers them: its offers must
	 * not meet max_incoming_per_session (what it paces is not tested here) */
	dmn_start_conf(&d, "[limits]\nsession_output_bytes = 65536\n"
			   "max_incoming_per_session = 20000\n");
	memset(&bk, 0, sizeof(bk));
	static const struct cm_client_ops root_ops = {
		CM_CLIENT_OPS_INIT,
		.make_call_complete = bk_make,
		.add_party_complete = bk_add,
		.incoming_drop_party = bk_incoming_drop,
		.incoming_close_call = bk_incoming_close,
		.drop_party_complete = bk_answer,
		.close_call_complete = bk_close_answer,
	};
	static const struct cm_client_ops leaf_ops = {
		CM_CLIENT_OPS_INIT,
		.incoming_call = bk_leaf_call,
		.call_connected = bk_leaf_connected,
		.close_call_complete = bk_leaf_closed,
	};
	int err;
	cm_client *root = cm_client_open(d.sock, &root_ops, NULL, &err);
	cm_client *leaf = cm_client_open(d.sock, &leaf_ops, NULL, &err);
	ck_assert_ptr_nonnull(root);
	ck_assert_ptr_nonnull(leaf);
	int one = 0;
	ck_assert_int_eq(cm_register_sap(leaf, 1, NULL), CM_OK);
	char addr[CM_ADDR_HEX_LEN + 1];
	ck_assert_int_eq(cm_client_address(leaf, 1, addr, sizeof(addr)), CM_OK);
	ck_assert_int_eq(cm_make_call(root, &params, addr, NULL), CM_OK);
	dispatch_until(root, leaf, &bk.made, 1, 5000);
	ck_assert_int_eq(bk.made, 1);
	for (int i = 1; i < BULK; i++)
		ck_assert_int_eq(cm_add_party(root, bk.vc, addr, NULL), CM_OK);
	dispatch_until(root, leaf, &bk.added, BULK - 1, 60000);
	ck_assert_int_eq(bk.added_ok, BULK - 1);
	dispatch_until(leaf, root, &bk.connected, BULK, 10000);

	/* the root stops reading; the other end drops all its parties */
	for (int i = 0; i < BULK; i++)
		ck_assert_int_eq(cm_close_call(leaf, bk.leaf_vc[i], bk.leaf_party[i], NULL, 0, 0,
					       NULL),
				 CM_OK);
	dispatch_until(leaf, NULL, &bk.closes_ok, BULK, 60000);

	/* reading again: every event once, then every answer CM_OK */
	dispatch_until(root, NULL, &bk.drops_in, BULK - 1, 30000);
	dispatch_until(root, NULL, &bk.close_in, 1, 5000);
	ck_assert_int_eq(bk.drops_in, BULK - 1);
	ck_assert_int_eq(bk.nroot, BULK);
	int once = 0;
	for (int i = 0; i < BULK; i++) {
		ck_assert_int_le(bk.dropped[i], 1);
		once += bk.dropped[i];
	}
	ck_assert_int_eq(once, BULK - 1); /* each of the root's parties, once */
	for (int i = 0; i < BULK; i++) {
		cm_party_id p = bk.root_party[i];
		if (bk.dropped[i])
			ck_assert_int_eq(cm_drop_party(root, bk.vc, p, NULL, 0, NULL), CM_OK);
		else
			ck_assert_int_eq(cm_close_call(root, bk.vc, p, NULL, 0, 0, NULL), CM_OK);
	}
	dispatch_until(root, NULL, &bk.answers_ok, BULK, 30000);
	ck_assert_int_eq(bk.answers_bad, 0);
	ck_assert(!bk.disconnected);
	ck_assert_int_eq(cm_client_dispatch(root), CM_OK);
	(void)one;
	cm_client_close(root);
	cm_client_close(leaf);
	stop_daemon(&d);
}
END_TEST

/* ---------------------------------------------------------------- the daemon dies */

START_TEST(daemon_dies)
{
	struct dmn d = { 0 };
	dmn_start(&d);
	static struct tclient root, mute;
	struct tclient *ts[] = { &root, &mute };
	tc_open(&root, &d, "root");
	tc_open(&mute, &d, "mute");
	mute.auto_accept = false; /* offered calls stay unanswered */
	register_sap(ts, 2, &mute, 4);
	char addr[CM_ADDR_HEX_LEN + 1];
	tc_addr(&root, 4, addr);
	int ctx[3];
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(cm_make_call(root.c, &params, addr, &ctx[i]), CM_OK);
	ck_assert_ptr_nonnull(tc_wait(ts, 2, &mute, EV_INCOMING_CALL, 3, 5000));
	ck_assert_int_eq(cm_register_sap(root.c, 9, NULL), CM_OK);
	dmn_kill(&d);

	struct tclient *only[] = { &root };
	for (int i = 0; i < 200 && !root.disconnected; i++)
		pump_for(only, 1, 10);
	ck_assert(root.disconnected);
	ck_assert_int_eq(tc_count(&root, EV_MAKE_CALL), 3);
	ck_assert_int_le(tc_count(&root, EV_REGISTER_SAP), 1);
	for (int i = 0; i < 3; i++) {
		const struct ev *e = tc_wait(only, 1, &root, EV_MAKE_CALL, i + 1, 0);
		ck_assert_int_eq(e->status, CM_E_DISCONNECTED);
		ck_assert_ptr_eq(e->ctx, &ctx[i]);
	}
	/* every request completed exactly once; nothing more comes */
	int n = root.nevs;
	ck_assert_int_eq(cm_client_dispatch(root.c), CM_E_DISCONNECTED);
	ck_assert_int_eq(root.nevs, n);
	ck_assert_int_eq(cm_make_call(root.c, &params, addr, NULL), CM_E_DISCONNECTED);
	tc_close(&root);
	tc_close(&mute);
}
END_TEST

/* ---------------------------------------------------------------- close inside a callback */

static void close_hook(struct tclient *t, const struct ev *e)
{
	if (e->type != EV_MAKE_CALL)
		return;
	char addr[CM_ADDR_HEX_LEN + 1];
	tc_addr(t, 2, addr);
	/* a request that will never complete, then close */
	ck_assert_int_eq(cm_add_party(t->c, e->vc, addr, NULL), CM_OK);
	cm_client_close(t->c);
	t->closed = true;
}

START_TEST(close_in_callback)
{
	struct dmn d = { 0 };
	dmn_start(&d);
	static struct tclient root, a, b;
	struct tclient *ts[] = { &root, &a, &b };
	tc_open(&root, &d, "root");
	tc_open(&a, &d, "a");
	tc_open(&b, &d, "b");
	register_sap(ts, 3, &a, 1);
	register_sap(ts, 3, &b, 2);
	root.hook = close_hook;
	char addr[CM_ADDR_HEX_LEN + 1];
	tc_addr(&root, 1, addr);
	ck_assert_int_eq(cm_make_call(root.c, &params, addr, NULL), CM_OK);
	pump_for(ts, 3, 300);
	ck_assert(root.closed);
	ck_assert_int_eq(root.nevs, 1);
	/* the closed session's VC goes down */
	const struct ev *e = tc_wait(ts, 3, &a, EV_INCOMING_CLOSE, 1, 5000);
	ck_assert_msg(e != NULL, "closing inside a callback left the VC behind");
	ck_assert_int_eq(e->cause, 31);
	tc_close(&a);
	tc_close(&b);
	stop_daemon(&d);
}
END_TEST


/* ---------------------------------------------------------------- monitor overflow */

static unsigned long mon_completions;

static void mon_sap_complete(cm_client *c, int status, uint8_t sel, void *ctx)
{
	mon_completions++;
}

START_TEST(monitor_overflow)
{
	struct dmn d = { 0 };
	dmn_start(&d);
	int sub = raw_connect(&d);
	raw_hello(sub);
	uint64_t seq = subscribe_ok(sub, 3);
	bool eof;
	Callmgr__DaemonMsg *r;

	/* 30000 events while the subscriber reads nothing */
	static const struct cm_client_ops ops = { CM_CLIENT_OPS_INIT,
						  .register_sap_complete = mon_sap_complete };
	int err;
	cm_client *x = cm_client_open(d.sock, &ops, NULL, &err);
	ck_assert_ptr_nonnull(x);
	const unsigned long total = 30000;
	for (unsigned long sent = 0; sent < total;) {
		for (int i = 0; i < 1000; i++, sent++)
			ck_assert_int_eq(cm_register_sap(x, 7, NULL), CM_OK);
		for (int i = 0; i < 5000 && mon_completions < sent; i++) {
			struct pollfd pfd = { .fd = cm_client_fd(x), .events = POLLIN };
			poll(&pfd, 1, 10);
			ck_assert_int_eq(cm_client_dispatch(x), CM_OK);
		}
		ck_assert_uint_eq(mon_completions, sent);
	}

	/* now read: events, one EventsLost, events again; no gap in seq */
	unsigned long events = 0, lost = 0, lost_msgs = 0;
	while ((r = raw_recv(sub, 1000, &eof)) != NULL) {
		ck_assert_uint_eq(r->seq, seq + 1);
		seq = r->seq;
		if (r->body_case == CALLMGR__DAEMON_MSG__BODY_MONITOR_EVENT) {
			events += strcmp(r->monitor_event->kind, "register-sap-complete") == 0;
		} else {
			ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_EVENTS_LOST);
			ck_assert_uint_gt(r->events_lost->count, 0);
			lost += r->events_lost->count;
			lost_msgs++;
		}
		callmgr__daemon_msg__free_unpacked(r, NULL);
	}
	ck_assert(!eof);
	ck_assert_msg(lost > 0, "30000 events fitted the monitor queue: nothing was lost");
	ck_assert_uint_ge(events + lost, total);
	ck_assert_uint_le(lost_msgs, 8);
	/* the subscriber is still served */
	get_status(sub, 4, seq + 1);
	cm_client_close(x);
	close(sub);
	stop_daemon(&d);
}
END_TEST

/* ---------------------------------------------------------------- SIGTERM */

START_TEST(shutdown_releases)
{
	struct dmn d = { 0 };
	dmn_start(&d);
	static struct tclient root, a, b;
	struct tclient *ts[] = { &root, &a, &b };
	tc_open(&root, &d, "root");
	tc_open(&a, &d, "a");
	tc_open(&b, &d, "b");
	register_sap(ts, 3, &a, 1);
	register_sap(ts, 3, &b, 2);
	const struct ev *mc = make_call(ts, 3, &root, 1);
	add_party(ts, 3, &root, mc->vc, 2);
	ck_assert_ptr_nonnull(tc_wait(ts, 3, &b, EV_CONNECTED, 1, 5000));
	kill(d.pid, SIGTERM);
	/* everybody hears the call go, then the daemon leaves */
	ck_assert_ptr_nonnull(tc_wait(ts, 3, &root, EV_INCOMING_CLOSE, 1, 5000));
	ck_assert_ptr_nonnull(tc_wait(ts, 3, &a, EV_INCOMING_CLOSE, 1, 5000));
	ck_assert_ptr_nonnull(tc_wait(ts, 3, &b, EV_INCOMING_CLOSE, 1, 5000));
	/* each answers its IncomingCloseCall (auto_answer): accepted while
	 * the shutdown lasts, not CM_E_NO_VC */
	for (int i = 0; i < 3; i++) {
		const struct ev *e = tc_wait(ts, 3, ts[i], EV_CLOSE_CALL, 1, 5000);
		ck_assert_msg(e != NULL, "%s: no answer to its CloseCall during shutdown",
			      ts[i]->name);
		ck_assert_msg(e->status == CM_OK, "%s: CloseCall during shutdown: %s",
			      ts[i]->name, cm_strerror(e->status));
	}
	for (int i = 0; i < 500 && !(root.disconnected && a.disconnected && b.disconnected); i++)
		pump_for(ts, 3, 10);
	ck_assert_msg(root.disconnected && a.disconnected && b.disconnected,
		      "callmgrd did not close its sessions within 5 s of SIGTERM");
	int rc = dmn_wait(&d, 5000);
	ck_assert_msg(rc == 0, "callmgrd exited with %d after SIGTERM", rc);
	for (int i = 0; i < 3; i++)
		tc_close(ts[i]);
}
END_TEST

/* ---------------------------------------------------------------- admin reads, socket path */

START_TEST(admin_reads)
{
	struct dmn d = { 0 };
	dmn_start(&d);
	/* NULL path: $CALLMGR_SOCKET */
	int err = 0;
	setenv("CALLMGR_SOCKET", "/nonexistent/callmgr.sock", 1);
	ck_assert_ptr_null(cm_client_open(NULL, NULL, NULL, &err));
	ck_assert_int_eq(err, CM_E_NO_DAEMON);
	setenv("CALLMGR_SOCKET", d.sock, 1);
	static struct tclient root, a;
	struct tclient *ts[] = { &root, &a };
	memset(&root, 0, sizeof(root));
	root.name = "root";
	root.c = cm_client_open(NULL, NULL, &root, &err);
	ck_assert_ptr_nonnull(root.c);
	tc_open(&a, &d, "a");
	register_sap(ts, 2, &a, 1);
	cm_vc_id vcs[3];
	char addr[CM_ADDR_HEX_LEN + 1];
	tc_addr(&root, 1, addr);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(cm_make_call(root.c, &params, addr, NULL), CM_OK);
		const struct ev *e = tc_wait(ts, 2, &a, EV_CONNECTED, i + 1, 5000);
		ck_assert_ptr_nonnull(e);
		vcs[i] = e->vc; /* the leaf's VCs: owned by a */
	}
	int fd = raw_connect(&d);
	raw_hello(fd);
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__ListVcs lv = CALLMGR__LIST_VCS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_LIST_VCS;
	m.list_vcs = &lv;
	lv.max = 4; /* root's 3 VCs and a's 3: paged */
	Callmgr__DaemonMsg *r = raw_ask(fd, &m, 1);
	ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_VC_LIST);
	ck_assert_uint_eq(r->vc_list->n_vcs, 4);
	ck_assert(r->vc_list->more);
	uint64_t last = 0;
	for (size_t i = 0; i < r->vc_list->n_vcs; i++) {
		ck_assert_uint_gt(r->vc_list->vcs[i]->vc, last);
		last = r->vc_list->vcs[i]->vc;
		ck_assert_int_eq(r->vc_list->vcs[i]->state, CALLMGR__VC_STATE__VC_ACTIVE);
	}
	callmgr__daemon_msg__free_unpacked(r, NULL);
	lv.after = last;
	r = raw_ask(fd, &m, 2);
	ck_assert_uint_eq(r->vc_list->n_vcs, 2);
	ck_assert(!r->vc_list->more);
	ck_assert_uint_gt(r->vc_list->vcs[0]->vc, last);
	ck_assert_uint_gt(r->vc_list->vcs[1]->vc, r->vc_list->vcs[0]->vc);
	callmgr__daemon_msg__free_unpacked(r, NULL);

	Callmgr__ShowVc sv = CALLMGR__SHOW_VC__INIT;
	sv.vc = vcs[0];
	m.body_case = CALLMGR__CLIENT_MSG__BODY_SHOW_VC;
	m.show_vc = &sv;
	r = raw_ask(fd, &m, 3);
	ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_VC_DETAIL);
	ck_assert_uint_eq(r->vc_detail->n_parties, 1);
	ck_assert_int_eq(r->vc_detail->parties[0]->state, CALLMGR__PARTY_STATE__PU7_ACTIVE);
	ck_assert_int_eq(r->vc_detail->parties[0]->call_state, CALLMGR__CALL_STATE__U10_ACTIVE);
	ck_assert_int_eq(r->vc_detail->parties[0]->timer, CALLMGR__TIMER__TIMER_NONE);
	ck_assert_uint_eq(r->vc_detail->parties[0]->peer.len, 6);
	callmgr__daemon_msg__free_unpacked(r, NULL);
	sv.vc = 999999;
	r = raw_ask(fd, &m, 4);
	ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_ERROR);
	ck_assert_int_eq(r->error->status, CM_E_NO_VC);
	callmgr__daemon_msg__free_unpacked(r, NULL);

	Callmgr__GetStats gs = CALLMGR__GET_STATS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_GET_STATS;
	m.get_stats = &gs;
	r = raw_ask(fd, &m, 5);
	ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_STATS);
	ck_assert_uint_eq(r->stats->vcs, 6);
	ck_assert_uint_eq(r->stats->sessions, 3);
	ck_assert_uint_eq(r->stats->saps, 1);
	callmgr__daemon_msg__free_unpacked(r, NULL);

	Callmgr__ListLinks ll = CALLMGR__LIST_LINKS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_LIST_LINKS;
	m.list_links = &ll;
	r = raw_ask(fd, &m, 6);
	ck_assert_int_eq(r->body_case, CALLMGR__DAEMON_MSG__BODY_LINK_LIST);
	ck_assert_uint_eq(r->link_list->n_links, 0);
	callmgr__daemon_msg__free_unpacked(r, NULL);
	close(fd);
	tc_close(&root);
	tc_close(&a);
	stop_daemon(&d);
}
END_TEST

/* ---------------------------------------------------------------- open errors, ABI */

/* In a child running as nobody: a socket it may not write is CM_E_ACCESS. */
static int refused_open(const char *sock)
{
	if (setgid(65534) < 0 || setuid(65534) < 0)
		return 10;
	int err = 0;
	if (cm_client_open(sock, NULL, NULL, &err) != NULL)
		return 11;
	return err == CM_E_ACCESS ? 0 : 12;
}

START_TEST(open_errors)
{
	int err = 0;
	char dir[] = "/tmp/cmopen.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/callmgr.sock", dir);

	/* no socket file */
	ck_assert_ptr_null(cm_client_open(path, NULL, NULL, &err));
	ck_assert_int_eq(err, CM_E_NO_DAEMON);

	/* a stale socket file, as a stopped socket unit leaves it */
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(l);
	err = 0;
	ck_assert_ptr_null(cm_client_open(path, NULL, NULL, &err));
	ck_assert_int_eq(err, CM_E_NO_DAEMON);
	unlink(path);
	rmdir(dir);
	ck_assert_str_ne(cm_strerror(CM_E_NO_DAEMON), cm_strerror(CM_E_DISCONNECTED));

	/* a daemon whose socket nobody else may write */
	if (getuid() != 0)
		return; /* uid 0 connects to anything: the refusal needs a second user */
	struct dmn d = { 0 };
	dmn_start(&d);
	ck_assert_int_eq(chmod(d.sock, 0600), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(refused_open(d.sock));
	int st = 0;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "refused open: status %d",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	ck_assert_int_eq(dmn_stop(&d), 0);
}
END_TEST

static int calls_seen;
static void count_connected(cm_client *c, cm_vc_id vc, cm_party_id party)
{
	calls_seen++;
}

/* A caller built against a newer header: one callback this library lacks. */
struct ops_next {
	struct cm_client_ops ops;
	void (*later)(void);
};

START_TEST(versions_and_sizes)
{
	struct dmn d = { 0 };
	dmn_start(&d);
	int err = 0;

	ck_assert_str_eq(cm_library_version(), CALLMGR_VERSION);
	ck_assert_str_eq(cm_client_daemon_version(NULL), "");
	cm_client *c = cm_client_open(d.sock, NULL, NULL, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(cm_client_daemon_version(c), CALLMGR_VERSION);
	cm_client_close(c);

	/* a size below the first release's is refused, not read past */
	struct cm_client_ops small = { .size = offsetof(struct cm_client_ops, call_connected) };
	err = 0;
	ck_assert_ptr_null(cm_client_open(d.sock, &small, NULL, &err));
	ck_assert_int_eq(err, CM_E_INVAL);
	struct cm_client_ops nosize = { .call_connected = count_connected };
	ck_assert_ptr_null(cm_client_open(d.sock, &nosize, NULL, &err));
	ck_assert_int_eq(err, CM_E_INVAL);
	/* garbage in size (an uninitialised struct) is refused before it is read */
	nosize.size = (size_t)1 << 40;
	err = 0;
	ck_assert_ptr_null(cm_client_open(d.sock, &nosize, NULL, &err));
	ck_assert_int_eq(err, CM_E_INVAL);

	/* larger: fine while what this library does not know is unset ... */
	struct ops_next next = { .ops = { .size = sizeof(struct ops_next),
					  .call_connected = count_connected } };
	c = cm_client_open(d.sock, &next.ops, NULL, &err);
	ck_assert_ptr_nonnull(c);
	cm_client_close(c);
	/* ... and refused when it would silently never be called */
	next.later = (void (*)(void))count_connected;
	err = 0;
	ck_assert_ptr_null(cm_client_open(d.sock, &next.ops, NULL, &err));
	ck_assert_int_eq(err, CM_E_INVAL);

	/* call parameters: the same floor; a larger struct is read up to ours */
	static struct tclient root;
	tc_open(&root, &d, "root");
	char addr[CM_ADDR_HEX_LEN + 1];
	tc_addr(&root, 9, addr);
	struct cm_call_params p = { .size = offsetof(struct cm_call_params, qos_class) };
	ck_assert_int_eq(cm_make_call(root.c, &p, addr, NULL), CM_E_INVAL);
	struct {
		struct cm_call_params p;
		uint64_t later;
	} pn = { .p = { .size = sizeof(pn), .qos_class = 5 }, .later = 1 };
	/* qos_class 5 is read (it is within 0.1's members) and refused */
	ck_assert_int_eq(cm_make_call(root.c, &pn.p, addr, NULL), CM_E_INVAL);
	pn.p.qos_class = 1;
	ck_assert_int_eq(cm_make_call(root.c, &pn.p, addr, NULL), CM_OK);
	tc_close(&root);
	ck_assert_int_eq(dmn_stop(&d), 0);
}
END_TEST

int main(int argc, char **argv)
{
	struct ck_named cases[] = {
#define CASE(name, timeout) { #name, name, timeout },
#include "ipc_cases.def"
#undef CASE
	};
	/* these need a second client as uid 65534: root only */
	static const char *const as_root[] = { "permissions", "monitor_read_policy", "sap_policy",
					       "sessions_per_user" };
	size_t n = sizeof(cases) / sizeof(cases[0]);
	if (getuid() != 0) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			bool root_only = false;
			for (size_t j = 0; j < sizeof(as_root) / sizeof(as_root[0]); j++)
				if (strcmp(cases[i].name, as_root[j]) == 0)
					root_only = true;
			if (!root_only) {
				cases[k++] = cases[i];
				continue;
			}
			if (argc > 1 && strcmp(argv[1], cases[i].name) == 0) {
				printf("%s: SKIPPED: needs root to run a second client as uid 65534\n",
				       cases[i].name);
				return 77;
			}
		}
		n = k;
	}
	return ck_run_named("ipc", argc, argv, cases, n);
}

/* SPDX-License-Identifier: MIT */
/* Scenario helpers shared by the call-control tests: a remote peer P speaking to us. */
#ifndef CALLMGR_TEST_CC_COMMON_H
#define CALLMGR_TEST_CC_COMMON_H

#include <check.h>
#include <string.h>

#include "drv.h"

enum { ROOT = 1, LEAF1 = 11, LEAF2 = 12, LEAF3 = 13, OTHER = 99 };
#define NONE 99 /* no completion expected */

extern struct drv d;
extern struct cc_mac P;

/* A message from P.  On a root leg P is not the originator (flag 1); on a leaf leg it is. */
static inline struct q_msg pmsg(uint8_t type, uint32_t cref, bool root_leg, int epref, int cause)
{
	struct q_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.cref = cref;
	m.cref_flag = root_leg;
	if (epref >= 0) {
		m.epref.present = true;
		m.epref.flag = root_leg;
		m.epref.value = (uint16_t)epref;
	}
	if (cause) {
		m.cause.present = true;
		m.cause.value = (uint8_t)cause;
	}
	return m;
}

static inline void peer_send(uint8_t type, uint32_t cref, bool root_leg, int epref, int cause)
{
	struct q_msg m = pmsg(type, cref, root_leg, epref, cause);
	drv_msg(&d, P, &m);
}

struct rcall {
	cm_vc_id vc;
	cm_party_id a;
	uint32_t cref;
	uint64_t make_req;
};

void common_setup(void);
void common_teardown(void);

/*
 * Each test program defines its suite here; the one main() in common.c
 * runs it.  CK_FORK=no (meson.build): a failing check ends its test, or
 * its table row, and the run goes on.
 */
Suite *cc_test_suite(void);

/*
 * The completion of a request, the n-th client event or SEND of a type,
 * where the test needs one: a missing one fails the test (the table row)
 * with the caller's file and line instead of crashing the whole program
 * on a NULL pointer, which CK_FORK=no would not survive.
 */
#define DONE(req)     must_done(__FILE__, __LINE__, (req))
#define CEV(type, n)  must_cev(__FILE__, __LINE__, (type), (n))
#define SENT(type, n) must_sent(__FILE__, __LINE__, (type), (n))
const struct cc_client_event *must_done(const char *file, int line, uint64_t req);
const struct cc_client_event *must_cev(const char *file, int line, uint8_t type, size_t n);
const struct cc_action *must_sent(const char *file, int line, uint8_t type, size_t n);
/* The status a request completed with, NONE while it has not. */
int req_status(uint64_t req);
/* MakeCall to P (selector 5); SETUP seen, not answered. */
void root_calling(struct rcall *k);
/* ... answered with CONNECT: active with party a (epref 0). */
void root_active(struct rcall *k);
/* AddParty to P; returns the request id and the epref sent, party id in *party. */
uint64_t root_add(struct rcall *k, uint8_t sel, uint16_t *epref, cm_party_id *party);
/* The party's state from the public view, -1 if it is not listed. */
int party_state(cm_vc_id vc, cm_party_id p);
/* The call state of the leg carrying cref (via the VC's parties), 0 if none. */
int call_state(cm_vc_id vc, uint32_t cref);
cm_party_id last_party(cm_vc_id vc);

struct lcall {
	uint32_t cref;
	cm_vc_id vc;
	cm_party_id party;
};
/* A point-to-multipoint SETUP from P for our SAP sel: 23,584 cells/s, 1500 octets, QoS 0. */
struct q_msg setup_msg(uint32_t cref, uint8_t sel);
/* P sets up a call to our SAP 1 (owned by LEAF1); offered, not accepted. */
void leaf_offered(struct lcall *k, uint32_t cref);
void leaf_active(struct lcall *k, uint32_t cref);
/* P adds a party (epref) for SAP sel on the leaf leg; returns the offered VC. */
void leaf_add_offered(const struct lcall *k, uint16_t epref, uint8_t sel, struct lcall *out);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Test harness: a real callmgrd in local mode on a temporary socket, clients
 * that record every callback, and a raw socket speaking the framing by hand.
 */
#ifndef CALLMGR_TEST_HARNESS_H
#define CALLMGR_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "callmgr.pb-c.h"
#include "callmgr/client.h"

struct dmn {
	pid_t pid;
	char dir[64];
	char sock[128];
	const char *conf; /* set before dmn_start: callmgrd.conf's text */
};

/* Start callmgrd; extra arguments may be NULL-terminated list. */
void dmn_start(struct dmn *d);
/* The same with conf (not d->conf) as the text of its configuration file. */
void dmn_start_conf(struct dmn *d, const char *conf);
/* SIGTERM and wait; returns the exit status (or 128+signal). */
int dmn_stop(struct dmn *d);
/* Wait for it to exit by itself; the exit status, -1 if it had to be killed. */
int dmn_wait(struct dmn *d, int timeout_ms);
void dmn_kill(struct dmn *d);
long dmn_rss_kb(const struct dmn *d);

enum ev_type {
	EV_REGISTER_SAP = 1,
	EV_MAKE_CALL,
	EV_ADD_PARTY,
	EV_DROP_PARTY,
	EV_CLOSE_CALL,
	EV_INCOMING_DROP,
	EV_INCOMING_CLOSE,
	EV_INCOMING_CALL,
	EV_CONNECTED,
	EV_DEREGISTER_SAP, /* the selector in .party, as for EV_REGISTER_SAP */
	EV_ACCEPT,
	EV_REJECT,
	EV_DATA_FD,      /* cm_data_fd's completion: status, vc, fd */
};

struct ev {
	enum ev_type type;
	int status;
	int cause;
	cm_vc_id vc;
	cm_party_id party;
	void *ctx;
	int fd;          /* EV_DATA_FD: the descriptor, now the test's; -1 on failure */
	size_t len;
	uint8_t data[CM_MAX_DATA];
	char caller[CM_ADDR_HEX_LEN + 1];
};

#define MAX_EVS 512

struct tclient;
/* Called after an event is recorded; may issue requests or close. */
typedef void (*tclient_hook)(struct tclient *t, const struct ev *e);

struct tclient {
	cm_client *c;
	const char *name;
	struct ev evs[MAX_EVS];
	int nevs;
	bool auto_accept;        /* accept incoming calls */
	bool auto_answer;        /* answer incoming close/drop */
	bool closed;             /* cm_client_close() was called by a hook */
	bool disconnected;
	tclient_hook hook;
	void *user;
};

/* Open a recording client on d's socket; fails the test if it cannot. */
void tc_open(struct tclient *t, const struct dmn *d, const char *name);
void tc_close(struct tclient *t);
/* Dispatch every client until pred(arg) holds or timeout_ms passes. */
bool pump(struct tclient **ts, int n, bool (*pred)(void *), void *arg, int timeout_ms);
/* Dispatch for ms milliseconds regardless. */
void pump_for(struct tclient **ts, int n, int ms);
/* The first recorded event of a type with index >= from, or NULL. */
const struct ev *tc_find(const struct tclient *t, enum ev_type type, int from);
int tc_count(const struct tclient *t, enum ev_type type);
/* Wait until t has recorded count events of type. */
const struct ev *tc_wait(struct tclient **ts, int n, struct tclient *t, enum ev_type type,
			 int count, int timeout_ms);
void tc_addr(const struct tclient *t, uint8_t sel, char *buf);

/* Raw framing. */
int raw_connect(const struct dmn *d);
/* Write all of buf or fail the test. A write after the point where the
 * daemon may already have closed the session fails with EPIPE, so a test
 * that provokes a cut-off writes the provoking bytes in one call. */
void raw_write(int fd, const void *buf, size_t len);
void raw_send(int fd, const Callmgr__ClientMsg *m);
void raw_hello(int fd);
/* Next DaemonMsg within timeout_ms; NULL on EOF/timeout (*eof tells which). */
Callmgr__DaemonMsg *raw_recv(int fd, int timeout_ms, bool *eof);
/* True if the peer closed within timeout_ms (after reading anything pending). */
bool raw_wait_eof(int fd, int timeout_ms);

#endif

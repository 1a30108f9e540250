/* SPDX-License-Identifier: MIT */
/*
 * The client socket: framing, the hello exchange, sessions with their peer
 * credentials, authorisation of admin requests, and bounded output.
 *
 * It decides nothing about calls.  Every request after the hello (except
 * Subscribe, which is a property of the session) goes to ipc_ops.request;
 * the daemon answers with ipc_send() / ipc_send_error().  A session that
 * ends for any reason (EOF, fatal protocol error, too slow a reader) is
 * reported once through ipc_ops.closed, always from its own libevent
 * callback and never from inside ipc_send(), so the caller may feed call
 * control from there without re-entering it.
 */
#ifndef CALLMGR_IPC_H
#define CALLMGR_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "callmgr.pb-c.h"
#include "cm_proto_const.h"

struct event_base;
struct ipc;


struct ipc_config {
	const char *path;       /* where to bind, unless listen_fd >= 0 */
	int listen_fd;          /* already listening (socket activation), or -1 */
	unsigned socket_mode;   /* chmod of a socket we bind; 0 = 0666 */
	size_t max_output;      /* per session, bytes queued before its requests wait unread */
	/* all sessions together: past it those holding over 64 KiB wait too,
	 * and monitor events are lost past three quarters of it (0: no bound) */
	size_t max_output_total;
	size_t monitor_output;  /* per subscriber, bytes queued before events are lost */
	size_t max_monitors;    /* subscribers at once; more: CM_E_LIMIT (0: no bound) */
	size_t max_sessions_per_user; /* past their hello, per uid but root (0: no bound) */
	bool have_admin_gid;
	gid_t admin_gid;
	/* who reads every VC and event (docs/security.md "Read policy") */
	bool have_operator_gid;
	gid_t operator_gid;
	uint32_t hello_timeout_ms;
	/* what HelloReply says about this node */
	uint8_t prefix[13];
	uint8_t esi[6];
	bool local_mode;
};
void ipc_config_defaults(struct ipc_config *cfg);

struct ipc_session_info {
	uint64_t id;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool admin;             /* uid 0 or the admin group */
	bool reads_all;         /* admin, or the operator group: others' VCs and events */
};

struct ipc_ops {
	/* One decoded request of a session past its hello. m is freed on return. */
	void (*request)(void *ctx, const struct ipc_session_info *s, const Callmgr__ClientMsg *m);
	/* The session is gone; reason is for the log. */
	void (*closed)(void *ctx, uint64_t session, const char *reason);
};

/* NULL and errno set on failure; EADDRINUSE when another daemon listens on
 * cfg->path already. */
struct ipc *ipc_open(struct event_base *base, const struct ipc_config *cfg,
		     const struct ipc_ops *ops, void *ctx);
/* Closes every session (without calling ops.closed) and the listener. */
void ipc_close(struct ipc *ipc);

/*
 * Queue m (its seq is filled in) to a session.  0; -1 if the session is
 * unknown or already ending.  Never dropped: a session whose output passes
 * max_output (or holds over 64 KiB while all output is over
 * max_output_total) has its requests left unread until it reads.
 */
int ipc_send(struct ipc *ipc, uint64_t session, Callmgr__DaemonMsg *m);
/*
 * Like ipc_send(), with the descriptor fd passed (SCM_RIGHTS) on the first
 * octet of m's frame; frames queued later wait behind it, in order.  Takes
 * fd: it is closed once passed, or on failure (-1).
 */
int ipc_send_fd(struct ipc *ipc, uint64_t session, Callmgr__DaemonMsg *m, int fd);
/* An Error for req_id; fatal ends the session once it is flushed. */
int ipc_send_error(struct ipc *ipc, uint64_t session, uint64_t req_id, int status,
		   bool fatal, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/*
 * To every subscriber allowed to see it (one that reads all, or one of the
 * uid of ev->session's live session), lossy: a full queue, or all output
 * over three quarters of max_output_total, counts the event as lost.
 */
void ipc_monitor(struct ipc *ipc, const Callmgr__MonitorEvent *ev);

struct ipc_stats {
	uint64_t sessions;              /* open now */
	uint64_t sessions_total;
	uint64_t frames_bad;
	uint64_t sessions_dropped_slow;
	uint64_t accept_pauses;         /* out of descriptors: accepting paused */
	uint64_t monitors;              /* subscribers now */
	uint64_t monitors_refused;      /* Subscribe over max_monitors */
	uint64_t sessions_refused_user; /* Hello over max_sessions_per_user */
	uint64_t output_queued;         /* octets queued to all sessions now */
	uint64_t sessions_throttled;    /* sessions whose requests wait unread now */
	uint64_t sessions_throttled_total; /* times a session's reading was stopped */
};
void ipc_get_stats(const struct ipc *ipc, struct ipc_stats *out);

/* Refuse new connections (shutdown); sessions go on. */
void ipc_stop_accepting(struct ipc *ipc);
/* A live session's credentials; 0, or -1 if it is not (or no longer) open. */
int ipc_session_get(const struct ipc *ipc, uint64_t session, struct ipc_session_info *out);
/* Whether a live session's client is in group gid: its primary group or a
 * supplementary one the kernel recorded at connect (SO_PEERGROUPS). */
bool ipc_session_in_group(const struct ipc *ipc, uint64_t session, gid_t gid);
/* Bytes still queued to clients. */
size_t ipc_pending_output(const struct ipc *ipc);

#endif

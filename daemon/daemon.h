/* SPDX-License-Identifier: MIT */
/*
 * callmgrd's wiring: one libevent loop joining the client socket (ipc/),
 * call control (cc/), and in wire mode the codec (sig/) and the link
 * (link/).  translate.c translates, admin.c answers the admin views,
 * timers.c keeps the timers; call control decides.
 */
#ifndef CALLMGR_DAEMON_H
#define CALLMGR_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cc/cc.h"
#include "sap_range.h"
#include "cm_proto_const.h"
#include "link/link.h"

/* The ESI of local mode: a locally administered unicast MAC (docs/ipc.md). */
#define DAEMON_LOCAL_ESI { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }

struct daemon_settings {
	const char *interface;     /* NULL: local mode */
	int link_fd;               /* interface's socket from link_socket(), or -1: open it here */
	int data_fd;               /* its data socket from datalink_socket(), or -1: open it here */
	const char *socket_path;
	int listen_fd;             /* socket activation: already listening, or -1 */
	unsigned socket_mode;      /* 0: 0666 */
	uint8_t prefix[13];
	bool have_admin_gid;
	gid_t admin_gid;
	bool have_operator_gid;
	gid_t operator_gid;
	/* who may register which selectors; none: anyone any */
	struct sap_range sap_ranges[CONFIG_SAP_RANGES_MAX];
	size_t n_sap_ranges;
	uint32_t session_output_bytes; /* 0: the IPC default (4 MiB) */
	uint32_t monitor_output_bytes; /* 0: the IPC default */
	uint32_t max_monitors;         /* 0: the IPC default */
	uint32_t max_sessions_per_user; /* 0: the IPC default */
	uint32_t max_output_total;     /* 0: the IPC default (256 MiB) */
	uint32_t shutdown_ms;      /* bound on SIGTERM clean-up; 0: 3000 */
	bool foreground;           /* else detach once the socket listens (not under systemd) */
	/*
	 * SIGHUP: fill *cc with the new timers and limits and return 0 (the
	 * daemon keeps prefix and esi and calls cc_reconfigure), or -1 to keep
	 * the running ones.  NULL: SIGHUP is ignored.
	 */
	int (*reload)(void *ctx, struct cc_config *cc_out);
	void *reload_ctx;
	struct cc_config cc;       /* prefix and esi are filled in by daemon_run */
	struct link_config link;
};

/* Defaults: local mode, default socket, default prefix, cc defaults. */
void daemon_settings_defaults(struct daemon_settings *s);

/* Run until SIGTERM/SIGINT; returns the process exit status. */
int daemon_run(const struct daemon_settings *s);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * callmgrd's configuration: the INI file (callmgrd.conf(5)) overlaid with
 * the command line.  Every value is checked here, once, so the modules that
 * receive struct cc_config / struct link_config can trust them.
 */
#ifndef CALLMGR_CONFIG_H
#define CALLMGR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * This header shadows the build's generated config.h for sources in daemon/,
 * so it brings in the same definitions (CALLMGR_VERSION, ...) under another name.
 */
#include "callmgr-build.h"
#include "cc/cc.h"
#include "cm_proto_const.h"
#include "link/link.h"
#include "sap_range.h"

#define CONFIG_ERR_MAX 512

/* Where log lines go; "auto" picks the journal when stderr is connected to it. */
enum config_log_target {
	CONFIG_LOG_AUTO = 0,
	CONFIG_LOG_STDERR,
	CONFIG_LOG_JOURNAL,
};

struct daemon_config {
	char interface[16];        /* "" = local mode */
	char socket_path[108];     /* fits sockaddr_un.sun_path */
	bool have_prefix;          /* false: the built-in default prefix */
	uint8_t prefix[13];
	int log_level;             /* LOG_ERR .. LOG_DEBUG */
	char admin_group[64];      /* "" = only root may change state */
	gid_t admin_gid;           /* valid when admin_group is set */
	/* "" = only root and the admin group read others' VCs and events */
	char operator_group[64];
	gid_t operator_gid;        /* valid when operator_group is set */
	char sap_ranges_text[512]; /* as written; "" = any selector */
	struct sap_range sap_ranges[CONFIG_SAP_RANGES_MAX];
	size_t n_sap_ranges;
	unsigned socket_mode;      /* permission bits of the socket we create */
	uint32_t session_output_bytes; /* queued output per session before it is cut */
	uint32_t monitor_queue;    /* bytes of events queued per monitor before EventsLost */
	uint32_t max_monitors;     /* monitor subscribers at once */
	uint32_t max_sessions_per_user; /* client sessions of one uid but root */
	uint32_t max_output_total; /* output queued to all sessions before readers are held */
	struct cc_config cc;
	struct link_config link;
};

/* Command-line settings; each "have_" says the option was given. */
struct config_cmdline {
	const char *config_path;   /* NULL: the default file, which may be absent */
	const char *interface;
	const char *socket_path;
	const char *prefix;
	const char *log_level;
	enum config_log_target log_target;
	bool foreground;           /* do not detach (never needed under systemd) */
	bool check_config;         /* read the configuration, report, exit */
	bool help, version;
};

/*
 * The daemon's own defaults (socket, log level, limits of the IPC layer).
 * cfg->cc and cfg->link are left alone: the caller fills them with
 * cc_config_defaults() and link_config_defaults() first (config_defaults()
 * does all three).
 */
void config_daemon_defaults(struct daemon_config *cfg);
void config_defaults(struct daemon_config *cfg); /* config_build.c */

/* The default file: <sysconfdir>/callmgr/callmgrd.conf. */
const char *config_default_path(void);

/*
 * Overlay the INI file at path onto *cfg.  A missing file is an error only
 * when must_exist.  Returns 0, or -1 with a one-line message in err such as
 *   callmgrd.conf:12: [timers] t303: "abc" is not a number of milliseconds
 * On error *cfg is unchanged.
 */
int config_load_file(struct daemon_config *cfg, const char *path, bool must_exist, char *err,
		     size_t errlen);

/*
 * Parse argv (getopt_long).  Returns 0, or -1 with a message in err (usage
 * errors).  The strings point into argv.
 */
int config_parse_cmdline(int argc, char **argv, struct config_cmdline *cl, char *err,
			 size_t errlen);
extern const char config_usage[];

/* Apply the command-line settings on top of the file's.  0 or -1 + err. */
int config_apply_cmdline(struct daemon_config *cfg, const struct config_cmdline *cl, char *err,
			 size_t errlen);

/*
 * config_build.c holds config_defaults(), config_build() and config_reload():
 * the parts that need cc_config_defaults() and link_config_defaults().
 *
 * Everything at start-up: defaults, file (cl->config_path or the default
 * one), command line.  0 or -1 + err.
 */
int config_build(struct daemon_config *cfg, const struct config_cmdline *cl, char *err,
		 size_t errlen);

/*
 * Name the settings that differ between cur and next, as the file spells
 * them: "t303 4000->5000 ms, log_level notice->debug, interface \"\"->eth0
 * (needs restart)"; "" when none differ.
 */
void config_diff(const struct daemon_config *cur, const struct daemon_config *next, char *changed,
		 size_t changed_len);

/*
 * SIGHUP: rebuild the configuration into *next and describe in changed the
 * settings that differ from *cur ("t303 4000->5000 ms, log_level
 * notice->debug"; "" when none).  Only call control's timers and limits and
 * the log level change while running; everything else is kept from *cur
 * and named in changed with "(needs restart)".
 */
int config_reload(const struct daemon_config *cur, const struct config_cmdline *cl,
		  struct daemon_config *next, char *changed, size_t changed_len, char *err,
		  size_t errlen);

/* The i-th key the file knows, with its section; NULL past the last. */
const char *config_key_name(size_t i, const char **section);

/* Parse an AESA prefix: 26 hex digits, '.' allowed between them.  0 or -1. */
int config_parse_prefix(const char *s, uint8_t out[13]);

#endif

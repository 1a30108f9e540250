/* SPDX-License-Identifier: MIT */
/*
 * callmgrd: configuration (config.c), systemd (sd.c), then the daemon's
 * loop (daemon.c).  See callmgrd(8).
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "sd.h"

static struct config_cmdline cmdline;
static struct daemon_config running;

/* SIGHUP, from daemon.c: read the file again and say what changed. */
static int reload(void *ctx, struct cc_config *cc_out)
{
	struct daemon_config next;
	char changed[1024], err[CONFIG_ERR_MAX];
	const char *path = cmdline.config_path ? cmdline.config_path : config_default_path();
	if (config_reload(&running, &cmdline, &next, changed, sizeof(changed), err,
			  sizeof(err)) < 0) {
		log_err("reload: %s; keeping the running configuration", err);
		return -1;
	}
	running = next;
	log_set_level(running.log_level);
	log_notice("reloaded %s: %s", path, changed[0] ? changed : "nothing changed");
	*cc_out = running.cc;
	return 0;
}

int main(int argc, char **argv)
{
	char err[CONFIG_ERR_MAX];
	if (config_parse_cmdline(argc, argv, &cmdline, err, sizeof(err)) < 0) {
		fprintf(stderr, "callmgrd: %s\n%s", err, config_usage);
		return 2;
	}
	if (cmdline.help) {
		fputs(config_usage, stdout);
		return 0;
	}
	if (cmdline.version) {
		printf("callmgrd %s\n", CALLMGR_VERSION);
		return 0;
	}
	if (config_build(&running, &cmdline, err, sizeof(err)) < 0) {
		fprintf(stderr, "callmgrd: %s\n", err);
		return 2;
	}
	if (cmdline.check_config) {
		printf("callmgrd: configuration ok (%s)\n",
		       cmdline.config_path ? cmdline.config_path : config_default_path());
		return 0;
	}

	if (cmdline.log_target == CONFIG_LOG_JOURNAL ||
	    (cmdline.log_target == CONFIG_LOG_AUTO && sdg_stderr_is_journal()))
		sdg_use_journal();
	log_set_level(running.log_level);

	int listen_fd = sdg_listen_fd(err, sizeof(err));
	if (listen_fd == -2) {
		log_err("%s", err);
		return 1;
	}

	struct daemon_settings set;
	daemon_settings_defaults(&set);
	set.interface = running.interface[0] ? running.interface : NULL;
	set.socket_path = running.socket_path;
	set.listen_fd = listen_fd;
	set.socket_mode = running.socket_mode;
	if (running.have_prefix)
		memcpy(set.prefix, running.prefix, sizeof(set.prefix));
	set.have_admin_gid = running.admin_group[0] != '\0';
	set.admin_gid = running.admin_gid;
	set.have_operator_gid = running.operator_group[0] != '\0';
	set.operator_gid = running.operator_gid;
	memcpy(set.sap_ranges, running.sap_ranges, sizeof(set.sap_ranges));
	set.n_sap_ranges = running.n_sap_ranges;
	set.session_output_bytes = running.session_output_bytes;
	set.monitor_output_bytes = running.monitor_queue;
	set.max_monitors = running.max_monitors;
	set.max_sessions_per_user = running.max_sessions_per_user;
	set.foreground = cmdline.foreground;
	set.cc = running.cc;
	set.link = running.link;
	set.reload = reload;
	return daemon_run(&set);
}

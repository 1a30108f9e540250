/* SPDX-License-Identifier: MIT */
/*
 * callmgrd: configuration (config.c), the link and data sockets and the end of all
 * privileges (privs.c), systemd (sd.c), then the daemon's loop (daemon.c).
 * See callmgrd(8).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "data/datalink.h"
#include "link/link.h"
#include "log.h"
#include "privs.h"
#include "sd.h"

static struct config_cmdline cmdline;

/*
 * The one privileged step, then none (privs.h): open the link and data
 * sockets and give up every capability before anything is read from a
 * client or a peer.  Returns the link socket (-1 in local mode) with the
 * data socket in *data_fd, or -2 (logged) when the daemon must not start.
 * May execute the program again, which then comes back here with the
 * sockets inherited and nothing left to drop.
 */
static int open_link_then_drop(char **argv, const char *ifname, int *data_fd)
{
	char err[256];
	*data_fd = -1;
	int fd = privs_inherited_fd(PRIVS_LINK_FD_ENV, err, sizeof(err));
	int dfd = fd == -2 ? -1 : privs_inherited_fd(PRIVS_DATA_FD_ENV, err, sizeof(err));
	if (fd == -2 || dfd == -2) {
		log_err("%s", err);
		return -2;
	}
	if (!ifname) {
		/* not ours to use: local mode */
		if (fd >= 0)
			close(fd);
		if (dfd >= 0)
			close(dfd);
		fd = dfd = -1;
	}
	if (fd < 0 && ifname && (fd = link_socket(ifname)) < 0) {
		log_err("cannot open interface %s: %s", ifname, strerror(errno));
		return -2;
	}
	if (dfd < 0 && ifname && (dfd = datalink_socket(ifname)) < 0) {
		log_err("cannot open the data socket on %s: %s", ifname, strerror(errno));
		close(fd);
		return -2;
	}
	*data_fd = dfd;
	if (!privs_held()) {
		log_info("running without capabilities");
		return fd;
	}
	int rc = privs_drop();
	if (rc == -EPERM) {
		/* capset refused by the unit's system call filter: start again without them */
		log_info("executing callmgrd again to drop its capabilities");
		privs_reexec(argv, fd, dfd, err, sizeof(err));
		log_err("cannot drop capabilities: %s", err);
		return -2;
	}
	if (rc < 0) {
		log_err("cannot drop capabilities: %s", strerror(-rc));
		return -2;
	}
	log_info("capabilities dropped%s", fd >= 0 ? " with the link and data sockets open" : "");
	return fd;
}
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
	privs_after_reexec(argv[0]);
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

	const char *ifname = running.interface[0] ? running.interface : NULL;
	int data_fd = -1;
	int link_fd = open_link_then_drop(argv, ifname, &data_fd);
	if (link_fd == -2)
		return 1;

	int listen_fd = sdg_listen_fd(err, sizeof(err));
	if (listen_fd == -2) {
		log_err("%s", err);
		return 1;
	}

	struct daemon_settings set;
	daemon_settings_defaults(&set);
	set.interface = ifname;
	set.link_fd = link_fd;
	set.data_fd = data_fd;
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
	set.max_output_total = running.max_output_total;
	set.foreground = cmdline.foreground;
	set.cc = running.cc;
	set.link = running.link;
	set.reload = reload;
	return daemon_run(&set);
}

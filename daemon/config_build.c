/* SPDX-License-Identifier: MIT */
/*
 * The configuration as a whole: defaults of every module, the file, the
 * command line, and the SIGHUP reload.  Apart from config.c because it needs
 * call control and the link layer for their defaults.
 */
#include <string.h>

#include "config.h"

void config_defaults(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cc_config_defaults(&cfg->cc);
	link_config_defaults(&cfg->link);
	config_daemon_defaults(cfg);
}

int config_build(struct daemon_config *cfg, const struct config_cmdline *cl, char *err,
		 size_t errlen)
{
	struct daemon_config work;
	config_defaults(&work);
	const char *path = cl->config_path ? cl->config_path : config_default_path();
	if (config_load_file(&work, path, cl->config_path != NULL, err, errlen) < 0)
		return -1;
	if (config_apply_cmdline(&work, cl, err, errlen) < 0)
		return -1;
	*cfg = work;
	return 0;
}

int config_reload(const struct daemon_config *cur, const struct config_cmdline *cl,
		  struct daemon_config *next, char *changed, size_t changed_len, char *err,
		  size_t errlen)
{
	struct daemon_config fresh;
	if (config_build(&fresh, cl, err, errlen) < 0)
		return -1;
	config_diff(cur, &fresh, changed, changed_len);

	/*
	 * Only call control's timers and limits and the log level can change
	 * under running sessions; the rest (interface, socket, identity, IPC
	 * buffers, SSCOP) waits for a restart, as the diff says.
	 */
	struct daemon_config keep = *cur;
	keep.log_level = fresh.log_level;
	struct cc_config ccc = fresh.cc;
	memcpy(ccc.prefix, cur->cc.prefix, sizeof(ccc.prefix));
	ccc.esi = cur->cc.esi;
	keep.cc = ccc;
	*next = keep;
	return 0;
}

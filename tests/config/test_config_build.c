/* SPDX-License-Identifier: MIT */
/*
 * The configuration as callmgrd builds it: the modules' defaults, the
 * shipped sample file and man page against them, file plus command line,
 * and the SIGHUP reload.
 * usage: test_config_build SAMPLE_CONF MAN_PAGE
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "../ck_run.h"

/* Equal in every key the file can set, as config_diff() sees them. */
static bool same_config(const struct daemon_config *a, const struct daemon_config *b)
{
	char diff[1024];
	config_diff(a, b, diff, sizeof(diff));
	return diff[0] == '\0';
}

static const char *sample_path, *man_path;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void write_file(char *path, size_t len, const char *text)
{
	snprintf(path, len, "%s/cfgbuild-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The sample with every "#key = value" line made live. */
static char *uncommented_sample(void)
{
	static char out[65536];
	const char *in = slurp(sample_path);
	size_t o = 0;
	while (*in) {
		const char *eol = strchr(in, '\n');
		size_t len = eol ? (size_t)(eol - in) + 1 : strlen(in);
		const char *sp = strchr(in, ' ');
		bool key_line = in[0] == '#' && in[1] >= 'a' && in[1] <= 'z' && sp &&
				sp < in + len && strncmp(sp, " =", 2) == 0;
		if (key_line) {
			in++;
			len--;
		}
		memcpy(out + o, in, len);
		o += len;
		in += len;
	}
	out[o] = '\0';
	return out;
}

START_TEST(sample_lists_every_key_with_its_default)
{
	char *text = uncommented_sample();
	const char *section, *name;
	for (size_t i = 0; (name = config_key_name(i, &section)); i++) {
		char want[80];
		snprintf(want, sizeof(want), "\n%s =", name);
		ck_assert_msg(strstr(text, want), "the sample has no %s", name);
	}
	char path[256], err[CONFIG_ERR_MAX];
	write_file(path, sizeof(path), text);
	struct daemon_config defaults, loaded;
	config_defaults(&defaults);
	loaded = defaults;
	int rc = config_load_file(&loaded, path, true, err, sizeof(err));
	unlink(path);
	ck_assert_msg(rc == 0, "%s", err);
	char diff[1024];
	config_diff(&defaults, &loaded, diff, sizeof(diff));
	ck_assert_msg(diff[0] == '\0', "the sample differs from the defaults: %s", diff);
}
END_TEST

START_TEST(man_page_documents_every_key)
{
	const char *man = slurp(man_path);
	const char *section, *name;
	for (size_t i = 0; (name = config_key_name(i, &section)); i++) {
		char sec[32], key[64], keys_line[64];
		snprintf(sec, sizeof(sec), ".SH [%s]", section);
		snprintf(key, sizeof(key), "\n.B %s\n", name);
		snprintf(keys_line, sizeof(keys_line), " %s", name);
		ck_assert_msg(strstr(man, sec), "callmgrd.conf(5) has no section %s", sec);
		/* ".B key" or a ".BR a \", \" b" list naming it */
		bool found = strstr(man, key) != NULL;
		for (const char *p = man; !found && (p = strstr(p, "\n.BR ")); p++) {
			const char *eol = strchr(p + 1, '\n');
			const char *hit = strstr(p, keys_line);
			found = hit && eol && hit < eol;
		}
		ck_assert_msg(found, "callmgrd.conf(5) does not document %s", name);
	}
}
END_TEST

START_TEST(build_overlays_file_then_command_line)
{
	char path[256], err[CONFIG_ERR_MAX];
	write_file(path, sizeof(path),
		   "[daemon]\nlog_level = info\nsocket = /tmp/from-file.sock\n"
		   "[timers]\nt399 = 20000\n");
	struct config_cmdline cl;
	char *argv[] = { "callmgrd", "--config", path, "--log-level", "debug", NULL };
	ck_assert_int_eq(config_parse_cmdline(5, argv, &cl, err, sizeof(err)), 0);
	struct daemon_config cfg, defaults;
	ck_assert_msg(config_build(&cfg, &cl, err, sizeof(err)) == 0, "%s", err);
	config_defaults(&defaults);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);              /* option wins */
	ck_assert_str_eq(cfg.socket_path, "/tmp/from-file.sock"); /* file */
	ck_assert_uint_eq(cfg.cc.t399_ms, 20000);                /* file */
	ck_assert_uint_eq(cfg.cc.t303_ms, defaults.cc.t303_ms);  /* default */
	ck_assert_uint_eq(cfg.link.timer_cc_ms, defaults.link.timer_cc_ms);
	unlink(path);

	/* a named file must exist; the default one need not */
	ck_assert_int_eq(config_build(&cfg, &cl, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "cannot open"), "%s", err);
}
END_TEST

START_TEST(reload_applies_runtime_settings_only)
{
	char path[256], err[CONFIG_ERR_MAX], changed[1024];
	write_file(path, sizeof(path), "[timers]\nt303 = 4000\n");
	struct config_cmdline cl;
	char *argv[] = { "callmgrd", "-c", path, NULL };
	ck_assert_int_eq(config_parse_cmdline(3, argv, &cl, err, sizeof(err)), 0);
	struct daemon_config cur, next;
	ck_assert_int_eq(config_build(&cur, &cl, err, sizeof(err)), 0);
	cur.cc.esi.a[5] = 0x42; /* identity as the daemon filled it in */
	unlink(path);

	FILE *f = fopen(path, "w");
	fputs("[daemon]\ninterface = eth9\nlog_level = debug\n[timers]\nt303 = 5000\n"
	      "timer_poll = 500\n[limits]\nmax_vcs_per_session = 7\n",
	      f);
	fclose(f);
	ck_assert_msg(config_reload(&cur, &cl, &next, changed, sizeof(changed), err,
				    sizeof(err)) == 0,
		      "%s", err);
	ck_assert_str_eq(changed, "interface \"\"->eth9 (needs restart), log_level notice->debug, "
				  "t303 4000->5000 ms, timer_poll 750->500 ms (needs restart), "
				  "max_vcs_per_session 100000->7");
	ck_assert_uint_eq(next.cc.t303_ms, 5000);
	ck_assert_uint_eq(next.cc.max_vcs_per_session, 7);
	ck_assert_int_eq(next.log_level, LOG_DEBUG);
	ck_assert_str_eq(next.interface, "");          /* kept until a restart */
	ck_assert_uint_eq(next.link.timer_poll_ms, 750);
	ck_assert_int_eq(next.cc.esi.a[5], 0x42);

	/* a bad file changes nothing */
	f = fopen(path, "w");
	fputs("[timers]\nt303 = soon\n", f);
	fclose(f);
	struct daemon_config untouched = next;
	ck_assert_int_eq(config_reload(&cur, &cl, &next, changed, sizeof(changed), err,
				       sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, ":2: [timers] t303: \"soon\" is not a number of milliseconds"),
		      "%s", err);
	ck_assert(same_config(&next, &untouched));
	unlink(path);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_config_build SAMPLE_CONF MAN_PAGE\n");
		return 2;
	}
	sample_path = argv[1];
	man_path = argv[2];
	CK_RUN_CASES("config-build", CK_FORK_GETENV,
		CK_CASE("build", NULL, NULL, 0, CK_TEST(sample_lists_every_key_with_its_default),
			CK_TEST(man_page_documents_every_key),
			CK_TEST(build_overlays_file_then_command_line),
			CK_TEST(reload_applies_runtime_settings_only)));
}

/* SPDX-License-Identifier: MIT */
/*
 * The configuration parser: good files, every kind of bad file (with the
 * exact message an operator sees), and the command line.
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

static char path[256];

static void write_file(const char *text)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(path, sizeof(path), "%s/callmgrd-test-XXXXXX", dir);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	size_t len = strlen(text);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Base values the file overlays: all distinct from what the tests set. */
static void base(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	config_daemon_defaults(cfg);
	cfg->cc.t303_ms = 4000;
	cfg->cc.n303 = 2;
	cfg->link.timer_cc_ms = 1000;
}

/* Load text; returns rc, and the message with the temp path cut off in msg. */
static int load(const char *text, struct daemon_config *cfg, char *msg, size_t len)
{
	char err[CONFIG_ERR_MAX] = "";
	write_file(text);
	int rc = config_load_file(cfg, path, true, err, sizeof(err));
	unlink(path);
	msg[0] = '\0';
	if (rc < 0) {
		ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "error without path: %s",
			      err);
		snprintf(msg, len, "%s", err + strlen(path));
	}
	return rc;
}

static void expect_error(const char *text, const char *want)
{
	struct daemon_config cfg, before;
	char msg[CONFIG_ERR_MAX];
	base(&cfg);
	before = cfg;
	ck_assert_int_eq(load(text, &cfg, msg, sizeof(msg)), -1);
	ck_assert_str_eq(msg, want);
	ck_assert_msg(same_config(&cfg, &before), "config changed on error");
}

START_TEST(empty_file_changes_nothing)
{
	struct daemon_config cfg, before;
	char msg[CONFIG_ERR_MAX];
	base(&cfg);
	before = cfg;
	ck_assert_int_eq(load("", &cfg, msg, sizeof(msg)), 0);
	ck_assert(same_config(&cfg, &before));
	ck_assert_int_eq(load("# only a comment\n\n; and another\n[timers]\n", &cfg, msg,
			      sizeof(msg)),
			 0);
	ck_assert(same_config(&cfg, &before));
}
END_TEST

START_TEST(every_key_is_read)
{
	struct daemon_config cfg;
	char msg[CONFIG_ERR_MAX];
	base(&cfg);
	int rc = load("[daemon]\n"
		      "interface = veth0\n"
		      "socket = /tmp/cm.sock\n"
		      "prefix = 47.0005.80ffe1000000f21a2f3c\n"
		      "log_level = debug\n"
		      "admin_group = 0\n"
		      "operator_group = root\n"
		      "sap_ranges = root:5, @0:10-19\t1000:200-255\n"
		      "socket_mode = 0600\n"
		      "allowed_peers = 02:00:00:00:00:01, 02:AA:bb:00:00:02\t02:00:00:00:00:03,\n"
		      "[timers]\n"
		      "t303=1001\nt308   =   1002\nt309 = 1003\nt310 = 1004\nt313 = 1005\n"
		      "t316 = 1010\nt322 = 1006\nt397 = 1007\nt398 = 1008\nt399 = 1009\n"
		      "n303 = 3\nn308 = 4\nn316 = 6\nn322 = 5\n"
		      "timer_cc = 2001\nmax_cc = 7\ntimer_poll = 2002\ntimer_keepalive = 2003\n"
		      "timer_noresponse = 2004\ntimer_idle = 2005\n"
		      "[limits]\n"
		      "max_vcs_per_session = 11 ; inline comment\n"
		      "max_parties_per_vc = 12\nmax_pending_per_session = 13\n"
		      "max_incoming_per_session = 14\n"
		      "max_vcs_per_user = 15\nmax_pending_per_user = 16\nmax_memory = 17\n"
		      "max_saps_per_user = 18\n"
		      "session_output_bytes = 65536\nmonitor_queue = 8192\nlink_queue = 16\n"
		      "max_output_total = 1048576\n",
		      &cfg, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "%s", msg);
	ck_assert_str_eq(cfg.interface, "veth0");
	ck_assert_str_eq(cfg.socket_path, "/tmp/cm.sock");
	ck_assert(cfg.have_prefix);
	static const uint8_t want_prefix[13] = { 0x47, 0x00, 0x05, 0x80, 0xff, 0xe1, 0x00,
						 0x00, 0x00, 0xf2, 0x1a, 0x2f, 0x3c };
	ck_assert(memcmp(cfg.prefix, want_prefix, 13) == 0);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert_str_eq(cfg.admin_group, "0");
	ck_assert_int_eq(cfg.admin_gid, 0);
	ck_assert_str_eq(cfg.operator_group, "root");
	ck_assert_int_eq(cfg.operator_gid, 0);
	ck_assert_uint_eq(cfg.n_sap_ranges, 3);
	ck_assert(!cfg.sap_ranges[0].group && cfg.sap_ranges[0].id == 0);
	ck_assert_uint_eq(cfg.sap_ranges[0].lo, 5);
	ck_assert_uint_eq(cfg.sap_ranges[0].hi, 5);
	ck_assert(cfg.sap_ranges[1].group && cfg.sap_ranges[1].id == 0);
	ck_assert_uint_eq(cfg.sap_ranges[1].lo, 10);
	ck_assert_uint_eq(cfg.sap_ranges[1].hi, 19);
	ck_assert(!cfg.sap_ranges[2].group && cfg.sap_ranges[2].id == 1000);
	ck_assert_uint_eq(cfg.sap_ranges[2].hi, 255);
	ck_assert_uint_eq(cfg.socket_mode, 0600);
	static const uint8_t want_peers[3][6] = { { 2, 0, 0, 0, 0, 1 },
						  { 2, 0xaa, 0xbb, 0, 0, 2 },
						  { 2, 0, 0, 0, 0, 3 } };
	ck_assert_uint_eq(cfg.link.n_allowed, 3);
	ck_assert(memcmp(cfg.link.allowed, want_peers, sizeof(want_peers)) == 0);
	ck_assert_uint_eq(cfg.cc.t303_ms, 1001);
	ck_assert_uint_eq(cfg.cc.t308_ms, 1002);
	ck_assert_uint_eq(cfg.cc.t309_ms, 1003);
	ck_assert_uint_eq(cfg.cc.t310_ms, 1004);
	ck_assert_uint_eq(cfg.cc.t313_ms, 1005);
	ck_assert_uint_eq(cfg.cc.t316_ms, 1010);
	ck_assert_uint_eq(cfg.cc.t322_ms, 1006);
	ck_assert_uint_eq(cfg.cc.t397_ms, 1007);
	ck_assert_uint_eq(cfg.cc.t398_ms, 1008);
	ck_assert_uint_eq(cfg.cc.t399_ms, 1009);
	ck_assert_uint_eq(cfg.cc.n303, 3);
	ck_assert_uint_eq(cfg.cc.n308, 4);
	ck_assert_uint_eq(cfg.cc.n316, 6);
	ck_assert_uint_eq(cfg.cc.n322, 5);
	ck_assert_uint_eq(cfg.link.timer_cc_ms, 2001);
	ck_assert_uint_eq(cfg.link.max_cc, 7);
	ck_assert_uint_eq(cfg.link.timer_poll_ms, 2002);
	ck_assert_uint_eq(cfg.link.timer_keepalive_ms, 2003);
	ck_assert_uint_eq(cfg.link.timer_noresponse_ms, 2004);
	ck_assert_uint_eq(cfg.link.timer_idle_ms, 2005);
	ck_assert_uint_eq(cfg.cc.max_vcs_per_session, 11);
	ck_assert_uint_eq(cfg.cc.max_parties_per_vc, 12);
	ck_assert_uint_eq(cfg.cc.max_pending_per_session, 13);
	ck_assert_uint_eq(cfg.cc.max_incoming_per_session, 14);
	ck_assert_uint_eq(cfg.cc.max_vcs_per_user, 15);
	ck_assert_uint_eq(cfg.cc.max_pending_per_user, 16);
	ck_assert_uint_eq(cfg.cc.max_memory_mib, 17);
	ck_assert_uint_eq(cfg.cc.max_saps_per_user, 18);
	ck_assert_uint_eq(cfg.session_output_bytes, 65536);
	ck_assert_uint_eq(cfg.monitor_queue, 8192);
	ck_assert_uint_eq(cfg.max_output_total, 1048576);
	ck_assert_uint_eq(cfg.link.max_queue, 16);
}
END_TEST

START_TEST(empty_values_reset_optional_keys)
{
	struct daemon_config cfg;
	char msg[CONFIG_ERR_MAX];
	base(&cfg);
	cfg.have_prefix = true;
	snprintf(cfg.interface, sizeof(cfg.interface), "eth9");
	snprintf(cfg.admin_group, sizeof(cfg.admin_group), "root");
	cfg.link.n_allowed = 1;
	ck_assert_int_eq(load("[daemon]\ninterface =\nprefix =\nadmin_group =\n"
			      "allowed_peers =\n",
			      &cfg, msg, sizeof(msg)),
			 0);
	ck_assert_uint_eq(cfg.link.n_allowed, 0);
	ck_assert_str_eq(cfg.interface, "");
	ck_assert(!cfg.have_prefix);
	ck_assert_str_eq(cfg.admin_group, "");
}
END_TEST

START_TEST(group_by_name)
{
	struct daemon_config cfg;
	char msg[CONFIG_ERR_MAX];
	base(&cfg);
	cfg.admin_gid = 4242;
	ck_assert_int_eq(load("[daemon]\nadmin_group = root\n", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(cfg.admin_gid, 0);
}
END_TEST

/* Each kind of bad file, with the message the operator reads. */
static const struct {
	const char *text, *want;
} bad_files[] = {
	{ "[timers]\nt303 = 4000\n\nt308 = abc\n",
	  ":4: [timers] t308: \"abc\" is not a number of milliseconds" },
	{ "[timers]\nt303 = -5\n", ":2: [timers] t303: \"-5\" is not a number of milliseconds" },
	{ "[timers]\nt303 = 5s\n", ":2: [timers] t303: \"5s\" is not a number of milliseconds" },
	{ "[timers]\nt303 = +5\n", ":2: [timers] t303: \"+5\" is not a number of milliseconds" },
	{ "[timers]\nt303 =\n", ":2: [timers] t303: \"\" is not a number of milliseconds" },
	{ "[timers]\nt303 = 4294967296\n",
	  ":2: [timers] t303: \"4294967296\" is not a number of milliseconds" },
	{ "[timers]\nt399 = 0\n", ":2: [timers] t399: 0 is out of range (10..3600000 ms)" },
	{ "[timers]\nt397 = 3600001\n",
	  ":2: [timers] t397: 3600001 is out of range (10..3600000 ms)" },
	{ "[timers]\nn303 = 11\n", ":2: [timers] n303: 11 is out of range (1..10)" },
	{ "[timers]\nn322 = 0\n", ":2: [timers] n322: 0 is out of range (1..10)" },
	{ "[timers]\nmax_cc = many\n", ":2: [timers] max_cc: \"many\" is not a whole number" },
	{ "[timers]\ntimer_idle = 1.5\n",
	  ":2: [timers] timer_idle: \"1.5\" is not a number of milliseconds" },
	{ "[limits]\nsession_output_bytes = 100\n",
	  ":2: [limits] session_output_bytes: 100 is out of range (4096..1073741824)" },
	{ "[limits]\nmax_output_total = 0\n",
	  ":2: [limits] max_output_total: 0 is out of range (65536..4294967295)" },
	{ "[limits]\nmax_output_total = 4294967296\n",
	  ":2: [limits] max_output_total: \"4294967296\" is not a whole number" },
	{ "[limits]\nmonitor_queue = 0\n",
	  ":2: [limits] monitor_queue: 0 is out of range (4096..1073741824)" },
	{ "[timers]\nt999 = 5\n", ":2: [timers] t999: unknown key" },
	{ "[daemon]\nt303 = 5000\n", ":2: [daemon] t303: unknown key" },
	{ "[daemon]\n\n[bogus]\nkey = 1\n",
	  ":4: [bogus]: unknown section (known: [daemon], [timers], [limits])" },
	{ "log_level = debug\n",
	  ":1: log_level: key outside any section ([daemon], [timers], [limits])" },
	{ "[timers]\nt303 = 100\nt303 = 200\n",
	  ":3: [timers] t303: given twice (or continued on an indented line)" },
	{ "[timers]\nt303 = 100\n  200\n",
	  ":3: [timers] t303: given twice (or continued on an indented line)" },
	{ "[timers]\nthis line has no equals sign\n",
	  ":2: syntax error (expected \"key = value\", \"[section]\" or a comment)" },
	{ "[timers\nt303 = 100\n",
	  ":1: syntax error (expected \"key = value\", \"[section]\" or a comment)" },
	{ "[daemon]\nlog_level = loud\n",
	  ":2: [daemon] log_level: \"loud\" is not a log level (err, warning, notice, info, debug)" },
	{ "[daemon]\nsocket_mode = 0999\n",
	  ":2: [daemon] socket_mode: \"0999\" is not an octal permission mode (e.g. 0660)" },
	{ "[daemon]\nsocket_mode = 1777\n",
	  ":2: [daemon] socket_mode: \"1777\" is not an octal permission mode (e.g. 0660)" },
	{ "[daemon]\nsocket_mode = rw\n",
	  ":2: [daemon] socket_mode: \"rw\" is not an octal permission mode (e.g. 0660)" },
	{ "[daemon]\nprefix = 4700\n",
	  ":2: [daemon] prefix: \"4700\" is not an AESA prefix (26 hex digits, '.' allowed between them)" },
	{ "[daemon]\nprefix = 47000580ffe1000000f21a2f3g\n",
	  ":2: [daemon] prefix: \"47000580ffe1000000f21a2f3g\" is not an AESA prefix (26 hex digits, '.' allowed between them)" },
	{ "[daemon]\nprefix = 47000580ffe1000000f21a2f3c.\n",
	  ":2: [daemon] prefix: \"47000580ffe1000000f21a2f3c.\" is not an AESA prefix (26 hex digits, '.' allowed between them)" },
	{ "[daemon]\nprefix = 47000580ffe1000000f21a2f3c00\n",
	  ":2: [daemon] prefix: \"47000580ffe1000000f21a2f3c00\" is not an AESA prefix (26 hex digits, '.' allowed between them)" },
	{ "[daemon]\nallowed_peers = 02:00:00:00:00:0g\n",
	  ":2: [daemon] allowed_peers: \"02:00:00:00:00:0g\" is not a MAC address" },
	{ "[daemon]\nallowed_peers = 02:00:00:00:00:01,02:00:00:00:00\n",
	  ":2: [daemon] allowed_peers: \"02:00:00:00:00\" is not a MAC address" },
	{ "[daemon]\nallowed_peers = 02-00-00-00-00-01\n",
	  ":2: [daemon] allowed_peers: \"02-00-00-00-00-01\" is not a MAC address" },
	{ "[daemon]\nallowed_peers = 02:00:00:00:00:01 xx\n",
	  ":2: [daemon] allowed_peers: \"xx\" is not a MAC address" },
	{ "[daemon]\nallowed_peers = 02:00:00:00:00:011\n",
	  ":2: [daemon] allowed_peers: \"02:00:00:00:00:011\" is not a MAC address" },
	{ "[daemon]\nallowed_peers = 01:00:5e:00:00:01\n",
	  ":2: [daemon] allowed_peers: \"01:00:5e:00:00:01\" is a group address, not a station" },
	{ "[daemon]\nsocket = run/cm.sock\n",
	  ":2: [daemon] socket: \"run/cm.sock\" is not an absolute path of at most 107 characters" },
	{ "[daemon]\ninterface = averyveryverylongname0\n",
	  ":2: [daemon] interface: \"averyveryverylongname0\" is not an interface name" },
	{ "[daemon]\ninterface = eth0/1\n",
	  ":2: [daemon] interface: \"eth0/1\" is not an interface name" },
	{ "[daemon]\nadmin_group = no-such-group-callmgr\n",
	  ":2: [daemon] admin_group: \"no-such-group-callmgr\": no such group" },
	{ "[daemon]\noperator_group = no-such-group-callmgr\n",
	  ":2: [daemon] operator_group: \"no-such-group-callmgr\": no such group" },
	{ "[daemon]\nsap_ranges = 1000:1-2 root\n",
	  ":2: [daemon] sap_ranges: \"root\" is not WHO:SELECTOR[-SELECTOR]" },
	{ "[daemon]\nsap_ranges = no-such-user-callmgr:1\n",
	  ":2: [daemon] sap_ranges: \"no-such-user-callmgr\": no such user" },
	{ "[daemon]\nsap_ranges = @no-such-group-callmgr:1\n",
	  ":2: [daemon] sap_ranges: \"no-such-group-callmgr\": no such group" },
	{ "[daemon]\nsap_ranges = 1000:20-10\n",
	  ":2: [daemon] sap_ranges: \"1000:20-10\": selectors are 0..255, low-high" },
	{ "[daemon]\nsap_ranges = 1000:256\n",
	  ":2: [daemon] sap_ranges: \"1000:256\": selectors are 0..255, low-high" },
	{ "[timers]\n# a comment\nt303 = 1234567890123456789012345678901234567890123456789012345678901234567890"
	  "1234567890123456789012345678901234567890123456789012345678901234567890"
	  "1234567890123456789012345678901234567890123456789012345678901234567890\nt308 = 1\n",
	  ":3: line longer than 197 characters" },
	{ "[timers]\nt303 = 100\n[timers\nt308 = x\n",
	  ":3: syntax error (expected \"key = value\", \"[section]\" or a comment)" },
	/* the first error is the one reported, and nothing is applied */
	{ "[timers]\nt303 = 100\nt308 = x\nt309 = y\n",
	  ":3: [timers] t308: \"x\" is not a number of milliseconds" },
};

START_TEST(bad_file_is_refused_with_its_line_and_key)
{
	expect_error(bad_files[_i].text, bad_files[_i].want);
}
END_TEST

START_TEST(missing_file)
{
	struct daemon_config cfg, before;
	char err[CONFIG_ERR_MAX];
	base(&cfg);
	before = cfg;
	ck_assert_int_eq(config_load_file(&cfg, "/nonexistent/callmgrd.conf", false, err,
					  sizeof(err)),
			 0);
	ck_assert(same_config(&cfg, &before));
	ck_assert_int_eq(config_load_file(&cfg, "/nonexistent/callmgrd.conf", true, err,
					  sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "/nonexistent/callmgrd.conf: cannot open: No such file or directory");
	/* a directory is not a config file, even when optional */
	ck_assert_int_eq(config_load_file(&cfg, "/", false, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "/: ", 3) == 0, "%s", err);
}
END_TEST

START_TEST(binary_garbage_does_not_crash)
{
	char text[4096];
	unsigned seed = 12345;
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(rand_r(&seed) % (sizeof(text) - 1));
		for (size_t i = 0; i < n; i++)
			text[i] = (char)(rand_r(&seed) % 255 + 1);
		text[n] = '\0';
		struct daemon_config cfg;
		char msg[CONFIG_ERR_MAX];
		base(&cfg);
		/* either outcome is fine; it must not crash or overrun */
		(void)load(text, &cfg, msg, sizeof(msg));
	}
}
END_TEST

/* A NUL byte used to end the line for the parser: "t303 = 5000\0junk"
 * read as t303 = 5000 and the file was called fine.  Now it is refused
 * with its line, as --check-config, the start and SIGHUP all load this way. */
START_TEST(nul_byte_is_refused_with_its_line)
{
	static const char text[] = "[timers]\nt308 = 2000\nt303 = 5000\0 = junk\nt310 = 1000\n";
	struct daemon_config cfg, before;
	char err[CONFIG_ERR_MAX] = "";
	base(&cfg);
	before = cfg;
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(path, sizeof(path), "%s/callmgrd-test-XXXXXX", dir);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	ck_assert_int_eq(config_load_file(&cfg, path, true, err, sizeof(err)), -1);
	unlink(path);
	ck_assert_str_eq(err + strlen(path), ":3: NUL byte in the line");
	ck_assert_msg(same_config(&cfg, &before), "config changed on error");
}
END_TEST

static int parse(char **argv, struct config_cmdline *cl, char *err)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	return config_parse_cmdline(argc, argv, cl, err, CONFIG_ERR_MAX);
}

START_TEST(cmdline_options)
{
	struct config_cmdline cl;
	char err[CONFIG_ERR_MAX];
	char *argv[] = { "callmgrd", "--interface", "veth1", "-s", "/tmp/x.sock", "--config",
			 "/etc/x.conf", "--prefix", "47000580ffe1000000f21a2f3c", "-l",
			 "info", "--log-target", "journal", "-f", "--check-config", NULL };
	ck_assert_int_eq(parse(argv, &cl, err), 0);
	ck_assert_str_eq(cl.interface, "veth1");
	ck_assert_str_eq(cl.socket_path, "/tmp/x.sock");
	ck_assert_str_eq(cl.config_path, "/etc/x.conf");
	ck_assert_str_eq(cl.prefix, "47000580ffe1000000f21a2f3c");
	ck_assert_str_eq(cl.log_level, "info");
	ck_assert_int_eq(cl.log_target, CONFIG_LOG_JOURNAL);
	ck_assert(cl.foreground && cl.check_config);
	ck_assert(!cl.help && !cl.version);

	char *help[] = { "callmgrd", "-h", NULL };
	ck_assert_int_eq(parse(help, &cl, err), 0);
	ck_assert(cl.help);
	ck_assert(!cl.interface);
}
END_TEST

START_TEST(cmdline_errors)
{
	struct config_cmdline cl;
	char err[CONFIG_ERR_MAX];
	char *a1[] = { "callmgrd", "--bogus", NULL };
	ck_assert_int_eq(parse(a1, &cl, err), -1);
	ck_assert_str_eq(err, "unknown option --bogus");
	char *a2[] = { "callmgrd", "-x", NULL };
	ck_assert_int_eq(parse(a2, &cl, err), -1);
	ck_assert_str_eq(err, "unknown option -x");
	char *a3[] = { "callmgrd", "--socket", NULL };
	ck_assert_int_eq(parse(a3, &cl, err), -1);
	ck_assert_str_eq(err, "option --socket needs an argument");
	char *a4[] = { "callmgrd", "stray", NULL };
	ck_assert_int_eq(parse(a4, &cl, err), -1);
	ck_assert_str_eq(err, "unexpected argument \"stray\"");
	char *a5[] = { "callmgrd", "--log-target", "syslog", NULL };
	ck_assert_int_eq(parse(a5, &cl, err), -1);
	ck_assert_str_eq(err, "--log-target: \"syslog\" is not auto, stderr or journal");
}
END_TEST

START_TEST(cmdline_overrides_file)
{
	struct daemon_config cfg;
	struct config_cmdline cl;
	char msg[CONFIG_ERR_MAX], err[CONFIG_ERR_MAX];
	base(&cfg);
	ck_assert_int_eq(load("[daemon]\ninterface = eth0\nlog_level = err\nsocket = /a\n"
			      "[timers]\nt303 = 999\n",
			      &cfg, msg, sizeof(msg)),
			 0);
	char *argv[] = { "callmgrd", "-i", "veth7", "--log-level", "debug", NULL };
	ck_assert_int_eq(parse(argv, &cl, err), 0);
	ck_assert_int_eq(config_apply_cmdline(&cfg, &cl, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.interface, "veth7");
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert_str_eq(cfg.socket_path, "/a");       /* not overridden */
	ck_assert_uint_eq(cfg.cc.t303_ms, 999);

	struct daemon_config before = cfg;
	char *bad[] = { "callmgrd", "-s", "/ok", "--prefix", "xyz", NULL };
	ck_assert_int_eq(parse(bad, &cl, err), 0);
	ck_assert_int_eq(config_apply_cmdline(&cfg, &cl, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--prefix: \"xyz\" is not an AESA prefix (26 hex digits, '.' "
			      "allowed between them)");
	ck_assert(same_config(&cfg, &before));
	char *bad2[] = { "callmgrd", "--log-level", "9", NULL };
	ck_assert_int_eq(parse(bad2, &cl, err), 0);
	ck_assert_int_eq(config_apply_cmdline(&cfg, &cl, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--log-level: \"9\" is not a log level (err, warning, notice, "
			      "info, debug)");
}
END_TEST

START_TEST(prefix_parsing)
{
	uint8_t p[13];
	ck_assert_int_eq(config_parse_prefix("00112233445566778899aabbcc", p), 0);
	ck_assert_int_eq(p[0], 0x00);
	ck_assert_int_eq(p[5], 0x55);
	ck_assert_int_eq(p[12], 0xcc);
	ck_assert_int_eq(config_parse_prefix("00.112233445566778899AABB.cc", p), 0);
	ck_assert_int_eq(p[10], 0xaa);
	ck_assert_int_eq(config_parse_prefix(".00112233445566778899aabbcc", p), -1);
	ck_assert_int_eq(config_parse_prefix("00..112233445566778899aabbcc", p), -1);
	ck_assert_int_eq(config_parse_prefix("", p), -1);
}
END_TEST

START_TEST(diff_names_what_changed)
{
	struct daemon_config a, b;
	char changed[512];
	base(&a);
	b = a;
	config_diff(&a, &b, changed, sizeof(changed));
	ck_assert_str_eq(changed, "");
	b.cc.t303_ms = 5000;
	b.log_level = LOG_DEBUG;
	snprintf(b.interface, sizeof(b.interface), "eth1");
	b.link.timer_cc_ms = 1500;
	config_diff(&a, &b, changed, sizeof(changed));
	ck_assert_str_eq(changed, "interface \"\"->eth1 (needs restart), log_level notice->debug, "
				  "t303 4000->5000 ms, timer_cc 1000->1500 ms (needs restart)");
	b = a;
	b.link.n_allowed = 2;
	memcpy(b.link.allowed[0], "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(b.link.allowed[1], "\x02\x00\x00\x00\x00\x02", 6);
	config_diff(&a, &b, changed, sizeof(changed));
	ck_assert_str_eq(changed, "allowed_peers \"\"->02:00:00:00:00:01,02:00:00:00:00:02 "
				  "(needs restart)");
	/* the last entry of a full list still counts */
	a.link.n_allowed = b.link.n_allowed = LINK_MAX_ALLOWED;
	memset(a.link.allowed, 2, sizeof(a.link.allowed));
	memcpy(b.link.allowed, a.link.allowed, sizeof(b.link.allowed));
	b.link.allowed[LINK_MAX_ALLOWED - 1][5] = 9;
	config_diff(&a, &b, changed, sizeof(changed));
	ck_assert_msg(strncmp(changed, "allowed_peers ", 14) == 0, "%s", changed);
	base(&a);
	b = a;
	b.cc.t303_ms = 5000;
	b.log_level = LOG_DEBUG;
	snprintf(b.interface, sizeof(b.interface), "eth1");
	b.link.timer_cc_ms = 1500;
	/* a short buffer truncates, never overruns */
	char tiny[16];
	config_diff(&a, &b, tiny, sizeof(tiny));
	ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);
}
END_TEST

START_TEST(key_table_lists_every_section)
{
	const char *section;
	size_t n = 0, daemon = 0, timers = 0, limits = 0;
	while (config_key_name(n, &section)) {
		daemon += strcmp(section, "daemon") == 0;
		timers += strcmp(section, "timers") == 0;
		limits += strcmp(section, "limits") == 0;
		n++;
	}
	ck_assert_uint_eq(daemon, 9);
	ck_assert_uint_eq(timers, 20);
	ck_assert_uint_eq(limits, 15);
	ck_assert_uint_eq(n, daemon + timers + limits);
}
END_TEST

int main(void)
{
	CK_RUN_CASES("config", CK_FORK_GETENV,
		CK_CASE("parse", NULL, NULL, 0, CK_TEST(empty_file_changes_nothing),
			CK_TEST(every_key_is_read), CK_TEST(empty_values_reset_optional_keys),
			CK_TEST(group_by_name),
			CK_LOOP(bad_file_is_refused_with_its_line_and_key, 0, (int)CK_N(bad_files)),
			CK_TEST(missing_file), CK_TEST(binary_garbage_does_not_crash),
			CK_TEST(cmdline_options), CK_TEST(cmdline_errors),
			CK_TEST(cmdline_overrides_file), CK_TEST(prefix_parsing),
			CK_TEST(diff_names_what_changed), CK_TEST(key_table_lists_every_section),
			CK_TEST(nul_byte_is_refused_with_its_line)));
}

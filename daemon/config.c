/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cm_hex.h"
#include "log.h"

enum key_kind {
	K_MS,       /* uint32_t, milliseconds */
	K_COUNT8,   /* uint8_t */
	K_U32,      /* uint32_t */
	K_IFNAME,   /* char[16] */
	K_PATH,     /* char[108], absolute */
	K_PREFIX,   /* have_prefix + uint8_t[13] */
	K_LEVEL,    /* int, a syslog level */
	K_GROUP,    /* char[64] group name; its gid_t at offset min */
	K_MODE,     /* unsigned, octal permission bits */
	K_MACLIST,  /* link.allowed + link.n_allowed */
	K_SAPRANGES, /* sap_ranges_text + sap_ranges + n_sap_ranges */
};

struct key_def {
	const char *section;
	const char *name;
	size_t off;
	uint32_t min, max;
	uint8_t kind; /* enum key_kind */
	/* Takes effect on SIGHUP; the others need a restart. */
	bool runtime;
};

#define CF(field) offsetof(struct daemon_config, field)
#define MS_MAX 3600000u

/*
 * Every key the file may hold.  Ranges keep out values that would make a
 * timer spin (0 ms) or a limit meaningless; they are wide on purpose.
 */
static const struct key_def keys[] = {
	{ "daemon", "interface", CF(interface), 0, 0, K_IFNAME, false },
	{ "daemon", "socket", CF(socket_path), 0, 0, K_PATH, false },
	{ "daemon", "prefix", CF(prefix), 0, 0, K_PREFIX, false },
	{ "daemon", "log_level", CF(log_level), 0, 0, K_LEVEL, true },
	{ "daemon", "admin_group", CF(admin_group), CF(admin_gid), 0, K_GROUP, false },
	{ "daemon", "operator_group", CF(operator_group), CF(operator_gid), 0, K_GROUP, false },
	{ "daemon", "socket_mode", CF(socket_mode), 0, 0777, K_MODE, false },
	/* the link checks it on every frame but keeps its own copy from start-up */
	{ "daemon", "allowed_peers", CF(link.allowed), 0, LINK_MAX_ALLOWED, K_MACLIST, false },
	{ "daemon", "sap_ranges", CF(sap_ranges_text), 0, CONFIG_SAP_RANGES_MAX, K_SAPRANGES,
	  false },

	{ "timers", "t303", CF(cc.t303_ms), 10, MS_MAX, K_MS, true },
	{ "timers", "t308", CF(cc.t308_ms), 10, MS_MAX, K_MS, true },
	{ "timers", "t309", CF(cc.t309_ms), 10, MS_MAX, K_MS, true },
	{ "timers", "t310", CF(cc.t310_ms), 10, MS_MAX, K_MS, true },
	{ "timers", "t313", CF(cc.t313_ms), 10, MS_MAX, K_MS, true },
	{ "timers", "t316", CF(cc.t316_ms), 10, MS_MAX, K_MS, true },
	{ "timers", "t322", CF(cc.t322_ms), 10, MS_MAX, K_MS, true },
	{ "timers", "t397", CF(cc.t397_ms), 10, MS_MAX, K_MS, true },
	{ "timers", "t398", CF(cc.t398_ms), 10, MS_MAX, K_MS, true },
	{ "timers", "t399", CF(cc.t399_ms), 10, MS_MAX, K_MS, true },
	{ "timers", "n303", CF(cc.n303), 1, 10, K_COUNT8, true },
	{ "timers", "n308", CF(cc.n308), 1, 10, K_COUNT8, true },
	{ "timers", "n316", CF(cc.n316), 1, 10, K_COUNT8, true },
	{ "timers", "n322", CF(cc.n322), 1, 10, K_COUNT8, true },
	/* SSCOP: the link module has no way to change them under a live association */
	{ "timers", "timer_cc", CF(link.timer_cc_ms), 10, MS_MAX, K_MS, false },
	{ "timers", "max_cc", CF(link.max_cc), 1, 100, K_U32, false },
	{ "timers", "timer_poll", CF(link.timer_poll_ms), 10, MS_MAX, K_MS, false },
	{ "timers", "timer_keepalive", CF(link.timer_keepalive_ms), 10, MS_MAX, K_MS, false },
	{ "timers", "timer_noresponse", CF(link.timer_noresponse_ms), 10, MS_MAX, K_MS, false },
	{ "timers", "timer_idle", CF(link.timer_idle_ms), 10, MS_MAX, K_MS, false },

	{ "limits", "max_vcs_per_session", CF(cc.max_vcs_per_session), 1, 100000000, K_U32, true },
	{ "limits", "max_parties_per_vc", CF(cc.max_parties_per_vc), 1, 100000000, K_U32, true },
	{ "limits", "max_pending_per_session", CF(cc.max_pending_per_session), 1,
	  100000000, K_U32, true },
	{ "limits", "max_incoming_per_session", CF(cc.max_incoming_per_session), 1, 100000000,
	  K_U32, true },
	{ "limits", "max_vcs_per_user", CF(cc.max_vcs_per_user), 1, 100000000, K_U32, true },
	{ "limits", "max_pending_per_user", CF(cc.max_pending_per_user), 1, 100000000, K_U32,
	  true },
	{ "limits", "max_memory", CF(cc.max_memory_mib), 16, 1048576, K_U32, true },
	{ "limits", "max_saps_per_user", CF(cc.max_saps_per_user), 1, 256, K_U32, true },
	/* the IPC layer sizes its buffers once, at start-up */
	{ "limits", "session_output_bytes", CF(session_output_bytes), 4096, 1u << 30, K_U32, false },
	{ "limits", "monitor_queue", CF(monitor_queue), 4096, 1u << 30, K_U32, false },
	{ "limits", "max_monitors", CF(max_monitors), 1, 100000, K_U32, false },
	{ "limits", "max_sessions_per_user", CF(max_sessions_per_user), 1, 100000, K_U32, false },
	{ "limits", "max_output_total", CF(max_output_total), 65536, UINT32_MAX, K_U32, false },
	{ "limits", "link_queue", CF(link.max_queue), 1, 10000000, K_U32, false },
	{ "limits", "link_backlog_bytes", CF(link.max_backlog), 65536, 1u << 30, K_U32, false },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

const char *config_key_name(size_t i, const char **section)
{
	if (i >= N_KEYS)
		return NULL;
	if (section)
		*section = keys[i].section;
	return keys[i].name;
}

static const char *const sections[] = { "daemon", "timers", "limits" };

const char *config_default_path(void)
{
	return CALLMGR_CONFDIR "/callmgrd.conf";
}

void config_daemon_defaults(struct daemon_config *cfg)
{
	struct cc_config ccc = cfg->cc;
	struct link_config lc = cfg->link;
	memset(cfg, 0, sizeof(*cfg));
	cfg->cc = ccc;
	cfg->link = lc;
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s", CM_DEFAULT_SOCKET);
	cfg->log_level = LOG_NOTICE;
	cfg->socket_mode = 0666;
	cfg->session_output_bytes = 4u << 20;
	cfg->monitor_queue = 512u << 10;
	cfg->max_monitors = 64;
	cfg->max_sessions_per_user = 64;
	cfg->max_output_total = 256u << 20;
}

int config_parse_prefix(const char *s, uint8_t out[13])
{
	return cmc_hex_parse_dotted(s, out, CMC_PREFIX_LEN);
}

/* "aa:bb:cc:dd:ee:ff", exactly: six pairs of hex digits. */
static int parse_mac(const char *s, size_t len, uint8_t out[6])
{
	if (len != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = cmc_hexval(s[3 * i]), lo = cmc_hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * MACs separated by commas and/or blanks; "" is the empty list (any peer).
 * A group address names no station that could send us a frame, so it is
 * refused rather than silently never matching.
 */
static int parse_mac_list(const char *value, struct link_config *lc, uint32_t max, char *err,
			  size_t errlen)
{
	static const char sep[] = ", \t";
	size_t n = 0;
	const char *s = value;
	for (;;) {
		s += strspn(s, sep);
		if (!*s)
			break;
		size_t len = strcspn(s, sep);
		uint8_t mac[6];
		if (parse_mac(s, len, mac) < 0) {
			snprintf(err, errlen, "\"%.*s\" is not a MAC address", (int)len, s);
			return -1;
		}
		if (mac[0] & 1) {
			snprintf(err, errlen, "\"%.*s\" is a group address, not a station",
				 (int)len, s);
			return -1;
		}
		if (n == max) {
			snprintf(err, errlen, "more than %u addresses", max);
			return -1;
		}
		memcpy(lc->allowed[n++], mac, 6);
		s += len;
	}
	lc->n_allowed = n;
	return 0;
}

/* Decimal digits only: "+5", "5s", " 5" and "" are all refused. */
static int parse_u32(const char *s, uint32_t *out)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0' || errno || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int resolve_group(const char *name, gid_t *gid)
{
	uint32_t num;
	if (parse_u32(name, &num) == 0) {
		*gid = (gid_t)num;
		return 0;
	}
	struct group *g = getgrnam(name);
	if (!g)
		return -1;
	*gid = g->gr_gid;
	return 0;
}

static int resolve_user(const char *name, uid_t *uid)
{
	uint32_t num;
	if (parse_u32(name, &num) == 0) {
		*uid = (uid_t)num;
		return 0;
	}
	struct passwd *pw = getpwnam(name);
	if (!pw)
		return -1;
	*uid = pw->pw_uid;
	return 0;
}

/* A selector 0..255 in decimal. */
static int parse_sel(const char *s, size_t len, uint8_t *out)
{
	char buf[4];
	uint32_t v;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (parse_u32(buf, &v) < 0 || v > 255)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

/*
 * "WHO:LO[-HI]" entries separated by commas and/or blanks; WHO is a user
 * (name or uid) or @group (name or gid).  Into *cfg only when all parse.
 */
static int parse_sap_ranges(const char *value, struct daemon_config *cfg, uint32_t max,
			    char *err, size_t errlen)
{
	static const char sep[] = ", \t";
	struct sap_range r[CONFIG_SAP_RANGES_MAX];
	size_t n = 0;
	const char *s = value;
	if (strlen(value) >= sizeof(cfg->sap_ranges_text)) {
		snprintf(err, errlen, "longer than %zu characters", sizeof(cfg->sap_ranges_text) - 1);
		return -1;
	}
	for (;;) {
		s += strspn(s, sep);
		if (!*s)
			break;
		size_t len = strcspn(s, sep);
		const char *colon = memchr(s, ':', len);
		char who[64];
		size_t wlen = colon ? (size_t)(colon - s) : 0;
		if (!colon || wlen == 0 || wlen >= sizeof(who)) {
			snprintf(err, errlen, "\"%.*s\" is not WHO:SELECTOR[-SELECTOR]", (int)len, s);
			return -1;
		}
		if (n == max) {
			snprintf(err, errlen, "more than %u entries", max);
			return -1;
		}
		memcpy(who, s, wlen);
		who[wlen] = '\0';
		struct sap_range *e = &r[n];
		e->group = who[0] == '@';
		int ok = e->group ? resolve_group(who + 1, (gid_t *)&e->id)
				  : resolve_user(who, (uid_t *)&e->id);
		if (ok < 0) {
			snprintf(err, errlen, "\"%s\": no such %s", e->group ? who + 1 : who,
				 e->group ? "group" : "user");
			return -1;
		}
		const char *sel = colon + 1, *end = s + len;
		const char *dash = memchr(sel, '-', (size_t)(end - sel));
		if (parse_sel(sel, (size_t)((dash ? dash : end) - sel), &e->lo) < 0 ||
		    parse_sel(dash ? dash + 1 : sel, (size_t)(end - (dash ? dash + 1 : sel)),
			      &e->hi) < 0 ||
		    e->hi < e->lo) {
			snprintf(err, errlen, "\"%.*s\": selectors are 0..255, low-high", (int)len, s);
			return -1;
		}
		n++;
		s += len;
	}
	memcpy(cfg->sap_ranges, r, n * sizeof(r[0]));
	cfg->n_sap_ranges = n;
	snprintf(cfg->sap_ranges_text, sizeof(cfg->sap_ranges_text), "%s", value);
	return 0;
}

static const char *kind_unit(uint8_t k)
{
	return k == K_MS ? " ms" : "";
}

/*
 * Store value for key into cfg.  0, or -1 with the reason (without file and
 * line) in err.
 */
static int set_key(struct daemon_config *cfg, const struct key_def *k, const char *value,
		   char *err, size_t errlen)
{
	char *p = (char *)cfg + k->off;
	uint32_t num;

	switch ((enum key_kind)k->kind) {
	case K_MS:
	case K_COUNT8:
	case K_U32:
		if (parse_u32(value, &num) < 0) {
			snprintf(err, errlen, "\"%s\" is not a %s", value,
				 k->kind == K_MS ? "number of milliseconds" : "whole number");
			return -1;
		}
		if (num < k->min || num > k->max) {
			snprintf(err, errlen, "%s is out of range (%u..%u%s)", value, k->min,
				 k->max, kind_unit(k->kind));
			return -1;
		}
		if (k->kind == K_COUNT8)
			*(uint8_t *)p = (uint8_t)num;
		else
			*(uint32_t *)p = num;
		return 0;
	case K_IFNAME:
		if (strlen(value) >= IFNAMSIZ || strpbrk(value, "/: \t")) {
			snprintf(err, errlen, "\"%s\" is not an interface name", value);
			return -1;
		}
		snprintf(p, sizeof(cfg->interface), "%s", value);
		return 0;
	case K_PATH:
		if (value[0] != '/' || strlen(value) >= sizeof(cfg->socket_path)) {
			snprintf(err, errlen, "\"%s\" is not an absolute path of at most %zu characters",
				 value, sizeof(cfg->socket_path) - 1);
			return -1;
		}
		snprintf(p, sizeof(cfg->socket_path), "%s", value);
		return 0;
	case K_PREFIX:
		if (value[0] == '\0') {
			cfg->have_prefix = false;
			return 0;
		}
		if (config_parse_prefix(value, cfg->prefix) < 0) {
			snprintf(err, errlen,
				 "\"%s\" is not an AESA prefix (26 hex digits, '.' allowed between them)",
				 value);
			return -1;
		}
		cfg->have_prefix = true;
		return 0;
	case K_LEVEL: {
		int l = log_level_parse(value);
		if (l < 0) {
			snprintf(err, errlen,
				 "\"%s\" is not a log level (err, warning, notice, info, debug)", value);
			return -1;
		}
		cfg->log_level = l;
		return 0;
	}
	case K_GROUP: {
		char *name = p;
		gid_t *gid = (gid_t *)((char *)cfg + k->min);
		if (value[0] == '\0') {
			name[0] = '\0';
			return 0;
		}
		if (strlen(value) >= sizeof(cfg->admin_group) || resolve_group(value, gid) < 0) {
			snprintf(err, errlen, "\"%s\": no such group", value);
			return -1;
		}
		snprintf(name, sizeof(cfg->admin_group), "%s", value);
		return 0;
	}
	case K_MODE: {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 8);
		if (value[0] < '0' || value[0] > '7' || *end || errno || v > k->max) {
			snprintf(err, errlen, "\"%s\" is not an octal permission mode (e.g. 0660)",
				 value);
			return -1;
		}
		cfg->socket_mode = (unsigned)v;
		return 0;
	}
	case K_MACLIST: {
		/* into a copy, so a bad entry leaves the list as it was */
		struct link_config lc = cfg->link;
		if (parse_mac_list(value, &lc, k->max, err, errlen) < 0)
			return -1;
		cfg->link = lc;
		return 0;
	}
	case K_SAPRANGES:
		return parse_sap_ranges(value, cfg, k->max, err, errlen);
	}
	return -1;
}

/* The value as the file would spell it; for diffs. */
static void format_key(const struct daemon_config *cfg, const struct key_def *k, char *buf,
		       size_t len)
{
	const char *p = (const char *)cfg + k->off;
	switch ((enum key_kind)k->kind) {
	case K_MS:
	case K_U32:
		snprintf(buf, len, "%u", *(const uint32_t *)p);
		break;
	case K_COUNT8:
		snprintf(buf, len, "%u", *(const uint8_t *)p);
		break;
	case K_IFNAME:
	case K_PATH:
	case K_GROUP:
	case K_SAPRANGES:
		snprintf(buf, len, "%s", p);
		break;
	case K_PREFIX:
		buf[0] = '\0';
		if (cfg->have_prefix)
			for (int i = 0; i < 13 && len > 2 * (size_t)i + 2; i++)
				snprintf(buf + 2 * i, len - 2 * i, "%02x", cfg->prefix[i]);
		break;
	case K_LEVEL:
		snprintf(buf, len, "%s", log_level_name(cfg->log_level));
		break;
	case K_MODE:
		snprintf(buf, len, "%04o", cfg->socket_mode);
		break;
	case K_MACLIST:
		buf[0] = '\0';
		for (size_t i = 0; i < cfg->link.n_allowed; i++) {
			const uint8_t *m = cfg->link.allowed[i];
			size_t used = strlen(buf);
			if (used + 19 > len)
				break;
			snprintf(buf + used, len - used, "%s%02x:%02x:%02x:%02x:%02x:%02x",
				 i ? "," : "", m[0], m[1], m[2], m[3], m[4], m[5]);
		}
		break;
	}
}

struct load_state {
	struct daemon_config *cfg;
	FILE *f;
	int line;             /* lines handed to inih so far */
	bool seen[N_KEYS];
	char err[CONFIG_ERR_MAX];
	int err_line;         /* 0: no error of ours yet */
};

__attribute__((format(printf, 2, 3))) static int fail(struct load_state *st, const char *fmt, ...)
{
	/* inih reports only the line of its first error, so keep only ours */
	if (!st->err_line) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(st->err, sizeof(st->err), fmt, ap);
		va_end(ap);
		st->err_line = st->line;
	}
	return 0;
}

/*
 * inih's line reader, counting lines so that our message and inih's line
 * number can be matched.  A line too long for inih's buffer would otherwise
 * be cut and its tail parsed as a line of its own.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct load_state *st = stream;
	/* fgets would hide a NUL byte: the line would end there for inih and
	 * the rest vanish, silently changing what the file says */
	size_t n = 0;
	bool nul = false;
	int c = EOF;
	while (n + 1 < (size_t)num && (c = fgetc(st->f)) != EOF) {
		nul |= c == '\0';
		str[n++] = (char)(c ? c : ' ');
		if (c == '\n')
			break;
	}
	if (n == 0)
		return NULL;
	str[n] = '\0';
	st->line++;
	if (nul) {
		if (c != '\n' && n == (size_t)num - 1)
			while ((c = fgetc(st->f)) != EOF && c != '\n')
				;
		fail(st, "NUL byte in the line");
		snprintf(str, (size_t)num, "!\n");
		return str;
	}
	if (n == (size_t)num - 1 && str[n - 1] != '\n' && !feof(st->f)) {
		while ((c = fgetc(st->f)) != EOF && c != '\n')
			;
		fail(st, "line longer than %d characters", num - 3);
		/* no '=': inih counts a syntax error on this same line */
		snprintf(str, (size_t)num, "!\n");
	}
	return str;
}

static int on_ini_key(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *st = user;

	if (st->err_line)
		return 0;
	if (section[0] == '\0')
		return fail(st, "%s: key outside any section ([daemon], [timers], [limits])",
			    name);
	bool known_section = false;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		known_section |= strcmp(section, sections[i]) == 0;
	if (!known_section)
		return fail(st, "[%s]: unknown section (known: [daemon], [timers], [limits])",
			    section);
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &keys[i];
		if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
			continue;
		if (st->seen[i])
			return fail(st, "[%s] %s: given twice (or continued on an indented line)",
				    section, name);
		st->seen[i] = true;
		char why[CONFIG_ERR_MAX - 80];
		if (set_key(st->cfg, k, value, why, sizeof(why)) < 0)
			return fail(st, "[%s] %s: %s", section, name, why);
		return 1;
	}
	return fail(st, "[%s] %s: unknown key", section, name);
}

int config_load_file(struct daemon_config *cfg, const char *path, bool must_exist, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct load_state *st = calloc(1, sizeof(*st));
	if (!st) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	struct daemon_config work = *cfg;
	st->cfg = &work;
	st->f = f;
	int r = ini_parse_stream(read_line, st, on_ini_key, st);
	int rc = -1;
	if (ferror(f))
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
	else if (r > 0 && r == st->err_line)
		snprintf(err, errlen, "%s:%d: %s", path, r, st->err);
	else if (r > 0)
		snprintf(err, errlen,
			 "%s:%d: syntax error (expected \"key = value\", \"[section]\" or a comment)",
			 path, r);
	else if (r < 0)
		snprintf(err, errlen, "%s: out of memory", path);
	else
		rc = 0;
	fclose(f);
	free(st);
	if (rc == 0)
		*cfg = work;
	return rc;
}

const char config_usage[] =
	"Usage: callmgrd [OPTION]...\n"
	"The callmgr call manager daemon (see callmgrd(8)).\n"
	"\n"
	"  -i, --interface IFNAME   signal peers on IFNAME (none: local mode)\n"
	"  -s, --socket PATH        the IPC socket (default " CM_DEFAULT_SOCKET ")\n"
	"  -c, --config FILE        the configuration file (default " CALLMGR_CONFDIR
	"/callmgrd.conf)\n"
	"  -p, --prefix HEX26       this node's 13-octet AESA prefix\n"
	"  -l, --log-level LEVEL    err, warning, notice, info or debug\n"
	"      --log-target TARGET  auto, stderr or journal (default auto)\n"
	"  -f, --foreground         do not detach (implied under systemd)\n"
	"      --check-config       check the configuration and exit\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n";

int config_parse_cmdline(int argc, char **argv, struct config_cmdline *cl, char *err,
			 size_t errlen)
{
	enum { OPT_LOG_TARGET = 256, OPT_CHECK_CONFIG };
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "log-target", required_argument, NULL, OPT_LOG_TARGET },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	memset(cl, 0, sizeof(*cl));
	optind = 0; /* glibc: full re-initialisation, so this may run more than once */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":i:s:c:p:l:fhV", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			cl->interface = optarg;
			break;
		case 's':
			cl->socket_path = optarg;
			break;
		case 'c':
			cl->config_path = optarg;
			break;
		case 'p':
			cl->prefix = optarg;
			break;
		case 'l':
			cl->log_level = optarg;
			break;
		case OPT_LOG_TARGET:
			if (strcmp(optarg, "auto") == 0)
				cl->log_target = CONFIG_LOG_AUTO;
			else if (strcmp(optarg, "stderr") == 0)
				cl->log_target = CONFIG_LOG_STDERR;
			else if (strcmp(optarg, "journal") == 0)
				cl->log_target = CONFIG_LOG_JOURNAL;
			else {
				snprintf(err, errlen,
					 "--log-target: \"%s\" is not auto, stderr or journal",
					 optarg);
				return -1;
			}
			break;
		case 'f':
			cl->foreground = true;
			break;
		case OPT_CHECK_CONFIG:
			cl->check_config = true;
			break;
		case 'h':
			cl->help = true;
			break;
		case 'V':
			cl->version = true;
			break;
		case ':':
			snprintf(err, errlen, "option %s needs an argument", argv[optind - 1]);
			return -1;
		default:
			if (optopt)
				snprintf(err, errlen, "unknown option -%c", optopt);
			else
				snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	return 0;
}

static const struct key_def *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

int config_apply_cmdline(struct daemon_config *cfg, const struct config_cmdline *cl, char *err,
			 size_t errlen)
{
	static const struct {
		const char *option, *key;
		size_t off;
	} map[] = {
		{ "--interface", "interface", offsetof(struct config_cmdline, interface) },
		{ "--socket", "socket", offsetof(struct config_cmdline, socket_path) },
		{ "--prefix", "prefix", offsetof(struct config_cmdline, prefix) },
		{ "--log-level", "log_level", offsetof(struct config_cmdline, log_level) },
	};
	struct daemon_config work = *cfg;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = *(const char *const *)((const char *)cl + map[i].off);
		if (!v)
			continue;
		char why[CONFIG_ERR_MAX - 40];
		if (set_key(&work, find_key("daemon", map[i].key), v, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", map[i].option, why);
			return -1;
		}
	}
	*cfg = work;
	return 0;
}

__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

void config_diff(const struct daemon_config *cur, const struct daemon_config *next, char *changed,
		 size_t changed_len)
{
	changed[0] = '\0';
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &keys[i];
		/* room for a full allowed_peers list, so no change hides past the end */
		char a[LINK_MAX_ALLOWED * 18 + 8], b[sizeof(a)];
		format_key(cur, k, a, sizeof(a));
		format_key(next, k, b, sizeof(b));
		if (strcmp(a, b) == 0)
			continue;
		append(changed, changed_len, "%s%s %s->%s%s%s", changed[0] ? ", " : "", k->name,
		       a[0] ? a : "\"\"", b[0] ? b : "\"\"", kind_unit(k->kind),
		       k->runtime ? "" : " (needs restart)");
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * callmgrd [--interface IFNAME] [--socket PATH] [--config FILE]
 *          [--prefix HEX26] [--log-level LEVEL] [--foreground]
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "log.h"

static const char usage[] =
	"usage: callmgrd [--interface IFNAME] [--socket PATH] [--config FILE]\n"
	"                [--prefix HEX26] [--log-level LEVEL] [--foreground]\n"
	"  --interface IFNAME  signal over IFNAME (AF_PACKET, needs CAP_NET_RAW);\n"
	"                      without it: local mode, ESI 02:00:00:00:00:01\n"
	"  --socket PATH       client socket (default " "/run/callmgr/callmgr.sock" ")\n"
	"  --prefix HEX26      this node's 13-octet AESA prefix, '.' allowed\n"
	"  --log-level LEVEL   err, warning, notice, info, debug\n"
	"  --foreground        do not detach (the default under systemd)\n";

/* 26 hex digits, dots allowed between them. */
static int parse_prefix(const char *s, uint8_t out[13])
{
	int n = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (p == s || p[1] == '\0' || p[1] == '.')
				return -1;
			continue;
		}
		if (!isxdigit((unsigned char)*p) || n >= 26)
			return -1;
		int v = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
		if (n % 2 == 0)
			out[n / 2] = (uint8_t)(v << 4);
		else
			out[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 26 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_settings set;
	daemon_settings_defaults(&set);
	int c;
	while ((c = getopt_long(argc, argv, "i:s:c:p:l:fhV", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			set.interface = optarg;
			break;
		case 's':
			set.socket_path = optarg;
			break;
		case 'c':
			fprintf(stderr, "callmgrd: --config: this build reads no configuration file\n");
			return 2;
		case 'p':
			if (parse_prefix(optarg, set.prefix) < 0) {
				fprintf(stderr, "callmgrd: --prefix: \"%s\" is not 26 hex digits\n",
					optarg);
				return 2;
			}
			break;
		case 'l': {
			int level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "callmgrd: --log-level: unknown level \"%s\"\n",
					optarg);
				return 2;
			}
			log_set_level(level);
			break;
		}
		case 'f':
			set.foreground = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("callmgrd %s\n", CALLMGR_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "callmgrd: unexpected argument \"%s\"\n%s", argv[optind], usage);
		return 2;
	}
	return daemon_run(&set);
}

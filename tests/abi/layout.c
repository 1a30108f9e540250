/* SPDX-License-Identifier: MIT */
/*
 * The released members of the size-tagged structs (0.1, and the 0.2
 * completions of cm_client_ops), pinned: each keeps its type and offset
 * whatever later releases append.  abidiff (abi_check.sh) lets
 * appended members through; this is what holds the members before them,
 * since a suppression that admits appending cannot tell "nothing appended,
 * an old member changed" from growth.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "callmgr/client.h"

static int failed;

#define SAME_TYPE(type, member, want)                                                        \
	check(__builtin_types_compatible_p(__typeof__(type##_probe.member), want), #type, #member, \
	      "type")
#define AT(type, member, off) check(offsetof(type, member) == (off), #type, #member, "offset")

static void check(int ok, const char *type, const char *member, const char *what)
{
	if (!ok) {
		printf("%s.%s: the released %s changed\n", type, member, what);
		failed = 1;
	}
}

typedef struct cm_client_ops ops_t;
typedef struct cm_call_params params_t;
static ops_t ops_t_probe;
static params_t params_t_probe;

int main(void)
{
	/* x86_64/LP64 offsets: the dump and this check are of that build */
	if (sizeof(void *) != 8 || sizeof(size_t) != 8) {
		printf("offsets are pinned for LP64 only; skipping\n");
		return 77;
	}
	SAME_TYPE(params_t, size, size_t);
	SAME_TYPE(params_t, peak_kbps, uint32_t);
	SAME_TYPE(params_t, max_sdu, uint32_t);
	SAME_TYPE(params_t, qos_class, uint8_t);
	AT(params_t, size, 0);
	AT(params_t, peak_kbps, 8);
	AT(params_t, max_sdu, 12);
	AT(params_t, qos_class, 16);

	SAME_TYPE(ops_t, size, size_t);
	SAME_TYPE(ops_t, register_sap_complete, void (*)(cm_client *, int, uint8_t, void *));
	SAME_TYPE(ops_t, make_call_complete,
		  void (*)(cm_client *, int, cm_vc_id, cm_party_id, void *));
	SAME_TYPE(ops_t, add_party_complete,
		  void (*)(cm_client *, int, cm_vc_id, cm_party_id, void *));
	SAME_TYPE(ops_t, drop_party_complete,
		  void (*)(cm_client *, int, cm_vc_id, cm_party_id, void *));
	SAME_TYPE(ops_t, close_call_complete, void (*)(cm_client *, int, cm_vc_id, void *));
	SAME_TYPE(ops_t, incoming_drop_party,
		  void (*)(cm_client *, cm_vc_id, cm_party_id, int, const void *, size_t));
	SAME_TYPE(ops_t, incoming_close_call,
		  void (*)(cm_client *, cm_vc_id, int, const void *, size_t));
	SAME_TYPE(ops_t, incoming_call,
		  void (*)(cm_client *, cm_vc_id, cm_party_id, const char *,
			   const struct cm_call_params *));
	SAME_TYPE(ops_t, call_connected, void (*)(cm_client *, cm_vc_id, cm_party_id));
	AT(ops_t, size, 0);
	AT(ops_t, register_sap_complete, 8);
	AT(ops_t, make_call_complete, 16);
	AT(ops_t, add_party_complete, 24);
	AT(ops_t, drop_party_complete, 32);
	AT(ops_t, close_call_complete, 40);
	AT(ops_t, incoming_drop_party, 48);
	AT(ops_t, incoming_close_call, 56);
	AT(ops_t, incoming_call, 64);
	AT(ops_t, call_connected, 72);
	/* 0.2 */
	SAME_TYPE(ops_t, deregister_sap_complete, void (*)(cm_client *, int, uint8_t, void *));
	SAME_TYPE(ops_t, accept_call_complete, void (*)(cm_client *, int, cm_vc_id, cm_party_id));
	SAME_TYPE(ops_t, reject_call_complete, void (*)(cm_client *, int, cm_vc_id, cm_party_id));
	AT(ops_t, deregister_sap_complete, 80);
	AT(ops_t, accept_call_complete, 88);
	AT(ops_t, reject_call_complete, 96);
	SAME_TYPE(ops_t, data_fd_complete, void (*)(cm_client *, int, cm_vc_id, int, void *));
	AT(ops_t, data_fd_complete, 104);
	/* the functions 0.2 added, with their types */
	check(__builtin_types_compatible_p(__typeof__(&cm_add_party_id),
					   int (*)(cm_client *, cm_vc_id, const char *,
						   cm_party_id *, void *)),
	      "cm_add_party_id", "()", "type");
	check(__builtin_types_compatible_p(__typeof__(&cm_deregister_sap),
					   int (*)(cm_client *, uint8_t, void *)),
	      "cm_deregister_sap", "()", "type");
	check(__builtin_types_compatible_p(__typeof__(&cm_data_fd),
					   int (*)(cm_client *, cm_vc_id, void *)),
	      "cm_data_fd", "()", "type");
	/* what a callback receiving an older library's struct relies on */
	params_t old = { .size = offsetof(params_t, qos_class) + sizeof(uint8_t) };
	check(CM_HAS_MEMBER(&old, params_t, qos_class), "CM_HAS_MEMBER", "qos_class", "answer");
	old.size = offsetof(params_t, qos_class);
	check(!CM_HAS_MEMBER(&old, params_t, qos_class), "CM_HAS_MEMBER", "qos_class", "answer");
	check(CM_HAS_MEMBER(&old, params_t, max_sdu), "CM_HAS_MEMBER", "max_sdu", "answer");
	if (!failed)
		printf("the released members of cm_client_ops and cm_call_params are unchanged\n");
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

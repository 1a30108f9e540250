/* SPDX-License-Identifier: MIT */
/*
 * libcallmgr — the client library of callmgrd.
 *
 * The model is CoNDIS: a request returns once it is written to the daemon
 * (0 = queued, "pending"; a negative CM_E_* code = it could not even be sent)
 * and its result arrives later through exactly one completion callback.
 * Remote requests arrive as incoming events.  Callbacks run only inside
 * cm_client_dispatch(), and every callback may issue any request, including
 * cm_client_close().
 *
 * Blocking: cm_client_open() blocks for the connect and the hello exchange,
 * at most CM_OPEN_TIMEOUT_MS in all.  A request normally returns at once;
 * only when the socket buffer towards the daemon is full does it wait for
 * room.  The daemon stops reading a client that has not read its events
 * (flow control), so while waiting the request reads what the daemon sends
 * into the handle's buffer; those events are delivered by the next
 * cm_client_dispatch() (the request's own answer makes the descriptor
 * readable again).  After CM_REQUEST_TIMEOUT_MS without progress either
 * way it fails with CM_E_DISCONNECTED and the handle takes no more requests.
 * cm_client_dispatch(), cm_client_close() and every other call never block.
 *
 * Threads: a cm_client is not locked.  Use each handle from one thread at a
 * time (callbacks run in the thread calling cm_client_dispatch()); distinct
 * handles are independent.  cm_strerror() and cm_library_version() may be
 * called from any thread at any time.
 *
 * Growing the ABI: struct cm_client_ops and struct cm_call_params start with
 * a size member that the caller sets to the size it was compiled with
 * (CM_CLIENT_OPS_INIT, CM_CALL_PARAMS_INIT).  Later releases add members only
 * at the end; the library reads only what the caller's size covers (the rest
 * counts as NULL or 0), so a program built against an older header keeps
 * working with a newer libcallmgr.so.0.  A struct the library hands to a
 * callback carries the library's size: test it with CM_HAS_MEMBER() before
 * reading a member added after 0.1.
 *
 * No protobuf or libevent type is visible here: the library is usable from
 * any event loop through cm_client_fd() and cm_client_dispatch().
 */
#ifndef CALLMGR_CLIENT_H
#define CALLMGR_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One error space shared by the library, the daemon and cmctl. */
enum cm_status {
	CM_OK = 0,
	CM_E_INVAL = -1,         /* bad argument or malformed request */
	CM_E_NO_VC = -2,         /* no such VC */
	CM_E_NO_PARTY = -3,      /* no such party on that VC */
	CM_E_LAST_PARTY = -4,    /* DropParty on the only remaining party: use CloseCall */
	CM_E_PARTIES_REMAIN = -5,/* CloseCall while other parties remain */
	CM_E_BUSY = -6,          /* a drop or close is already pending for it; or
				  * (MakeCall, AddParty) the link to that node is
				  * congested: try again later */
	CM_E_CLOSING = -7,       /* the VC is being closed */
	CM_E_REJECTED = -8,      /* the remote refused; the Q.2931 cause is given */
	CM_E_TIMEOUT = -9,       /* a signalling timer expired */
	CM_E_LINK_DOWN = -10,    /* the link to the peer failed */
	CM_E_UNREACHABLE = -11,  /* no route to the party's address */
	CM_E_PERM = -12,         /* not the VC's owner, or not allowed */
	CM_E_NOMEM = -13,        /* out of memory */
	CM_E_LIMIT = -14,        /* a configured limit was reached */
	CM_E_TOO_BIG = -15,      /* user data over CM_MAX_DATA octets */
	CM_E_DISCONNECTED = -16, /* the daemon went away */
	CM_E_PROTO = -17,        /* protocol error between library and daemon */
	CM_E_SAP_IN_USE = -18,   /* the selector is registered by another client */
	CM_E_NO_SAP = -19,       /* no client registered that selector */
	CM_E_STATE = -20,        /* request not valid in the current state */
	CM_E_ACCESS = -21,       /* open: no permission to connect to the socket */
	CM_E_NO_DAEMON = -22,    /* open: no socket file, or no daemon listening on it */
};
#define CM_STATUS_MIN (-22)

#define CM_MAX_DATA 127          /* user-user data with DropParty / CloseCall; with
                                    its protocol discriminator, the 128 octets of
                                    user-user contents peers accept (docs/wire.md) */
#define CM_ADDR_HEX_LEN 40       /* an AESA as hex digits, without separators */
#define CM_CLOSE_FORCE 0x1u      /* cm_close_call: drop the others first */
#define CM_OPEN_TIMEOUT_MS 5000  /* cm_client_open: connect and hello, in all */
#define CM_REQUEST_TIMEOUT_MS 10000 /* a request waiting for room in a full socket */

/*
 * True when the size-tagged struct at ptr (its first member is size_t size)
 * includes member: test it before reading a member added after 0.1 in a
 * struct the library handed over.
 */
#define CM_HAS_MEMBER(ptr, type, member)                                                    \
	((ptr)->size >= offsetof(type, member) + sizeof((ptr)->member))

typedef struct cm_client cm_client;
typedef uint64_t cm_vc_id;       /* assigned by the daemon, never reused while it runs */
typedef uint64_t cm_party_id;    /* likewise */

/*
 * Traffic and QoS of a call; 0 in a field means "the daemon's default".
 * Initialise with CM_CALL_PARAMS_INIT so that size is right:
 *   struct cm_call_params p = { CM_CALL_PARAMS_INIT, .peak_kbps = 2000 };
 */
struct cm_call_params {
	size_t size;             /* sizeof(struct cm_call_params) as compiled */
	uint32_t peak_kbps;      /* peak rate, kbit/s, both directions */
	uint32_t max_sdu;        /* AAL5 maximum SDU size, octets */
	uint8_t qos_class;       /* Q.2931 QoS class 0..4 */
};
#define CM_CALL_PARAMS_INIT .size = sizeof(struct cm_call_params)

/*
 * The callbacks; NULL ones are not called.  Every callback may call any cm_
 * request, including cm_client_close().  Initialise with CM_CLIENT_OPS_INIT:
 *   static const struct cm_client_ops ops = { CM_CLIENT_OPS_INIT,
 *                                             .call_connected = on_connected };
 *
 * Lifetimes of what a callback is handed:
 *  - cm_client *: the handle, valid until cm_client_close(); closing it
 *    inside a callback is allowed, and then the handle must not be used
 *    once that callback returns.
 *  - caller (incoming_call), params (incoming_call) and data
 *    (incoming_drop_party, incoming_close_call): library memory, valid
 *    only until the callback returns; copy what you keep.  data is NULL
 *    when len is 0.
 *  - req_ctx: the caller's own pointer, given back once in the request's
 *    one completion; the library never dereferences it.
 *  - ids (cm_vc_id, cm_party_id) and selectors are values.
 */
struct cm_client_ops {
	size_t size;             /* sizeof(struct cm_client_ops) as compiled */
	void (*register_sap_complete)(cm_client *, int status, uint8_t selector, void *req_ctx);
	void (*make_call_complete)(cm_client *, int status, cm_vc_id, cm_party_id, void *req_ctx);
	void (*add_party_complete)(cm_client *, int status, cm_vc_id, cm_party_id, void *req_ctx);
	void (*drop_party_complete)(cm_client *, int status, cm_vc_id, cm_party_id, void *req_ctx);
	void (*close_call_complete)(cm_client *, int status, cm_vc_id, void *req_ctx);
	void (*incoming_drop_party)(cm_client *, cm_vc_id, cm_party_id, int cause,
				    const void *data, size_t len);
	void (*incoming_close_call)(cm_client *, cm_vc_id, int cause, const void *data,
				    size_t len);
	void (*incoming_call)(cm_client *, cm_vc_id, cm_party_id, const char *caller,
			      const struct cm_call_params *);
	void (*call_connected)(cm_client *, cm_vc_id, cm_party_id);
	/* Since 0.2: the completions of cm_deregister_sap(), cm_accept_call() and
	 * cm_reject_call(). */
	void (*deregister_sap_complete)(cm_client *, int status, uint8_t selector, void *req_ctx);
	void (*accept_call_complete)(cm_client *, int status, cm_vc_id, cm_party_id);
	void (*reject_call_complete)(cm_client *, int status, cm_vc_id, cm_party_id);
	/*
	 * Since 0.2: the completion of cm_data_fd(): status CM_OK and fd, the VC's data
	 * descriptor, now the callback's to keep and close; or a CM_E_* status
	 * and fd -1.
	 */
	void (*data_fd_complete)(cm_client *, int status, cm_vc_id, int fd, void *req_ctx);
};
#define CM_CLIENT_OPS_INIT .size = sizeof(struct cm_client_ops)

/*
 * Connect to the daemon and complete the hello exchange before returning;
 * blocks at most CM_OPEN_TIMEOUT_MS.  socket_path NULL or "" means
 * $CALLMGR_SOCKET, else CM_DEFAULT_SOCKET.  ops may be NULL (no callbacks);
 * otherwise ops->size must cover at least the 0.1 members.  On failure
 * returns NULL and stores a CM_E_* code in *error (if error is not NULL):
 * CM_E_NO_DAEMON (no socket file, or a stale one nothing listens on),
 * CM_E_ACCESS (no permission on the socket), CM_E_TIMEOUT (the daemon did
 * not accept or answer the hello in time), CM_E_INVAL (bad ops size, path too long), CM_E_PROTO,
 * CM_E_LIMIT (the user has max_sessions_per_user sessions open already),
 * CM_E_NOMEM or CM_E_DISCONNECTED.
 */
#define CM_DEFAULT_SOCKET "/run/callmgr/callmgr.sock"
cm_client *cm_client_open(const char *socket_path, const struct cm_client_ops *ops,
			  void *userdata, int *error);

/* The descriptor to poll for POLLIN; then call cm_client_dispatch(). */
int cm_client_fd(const cm_client *c);

/*
 * Read what the daemon sent and run the callbacks.  Never blocks.  Returns 0,
 * or CM_E_DISCONNECTED once the daemon has gone (after every outstanding
 * request has been completed with CM_E_DISCONNECTED).
 */
int cm_client_dispatch(cm_client *c);

/*
 * Close the connection.  Safe inside a callback: the handle is freed when
 * the callback returns.  Outstanding requests get no completion after this.
 */
void cm_client_close(cm_client *c);

/* The userdata given to cm_client_open(). */
void *cm_client_userdata(const cm_client *c);

/*
 * The daemon's version as it announced it in the hello exchange (e.g.
 * "0.1.0"); "" if it announced none or c is NULL.  Valid while c is open.
 */
const char *cm_client_daemon_version(const cm_client *c);

/* The version of the libcallmgr in use (e.g. "0.1.0"); a static string. */
const char *cm_library_version(void);

/*
 * This node's address for a selector, as 40 hex digits and a NUL, into buf
 * (len >= 41).  Returns 0 or a negative CM_E_ code.
 */
int cm_client_address(const cm_client *c, uint8_t selector, char *buf, size_t len);

/* Claim a service access point; incoming calls to it come to this client. */
int cm_register_sap(cm_client *c, uint8_t selector, void *req_ctx);

/*
 * Give a service access point back (since 0.2).  Calls to it are refused
 * from then on as to a selector nobody registered; calls it already brought
 * stay this client's.  Completes through deregister_sap_complete: CM_OK,
 * CM_E_NO_SAP (nobody registered it) or CM_E_PERM (another client did).
 * Closing the handle gives every SAP back too.
 */
int cm_deregister_sap(cm_client *c, uint8_t selector, void *req_ctx);

/*
 * Make a multipoint call whose first party is the AESA first_party (hex).
 * params may be NULL (all defaults); otherwise params->size must cover at
 * least the 0.1 members (CM_CALL_PARAMS_INIT), else CM_E_INVAL.
 */
int cm_make_call(cm_client *c, const struct cm_call_params *params,
		 const char *first_party, void *req_ctx);

/*
 * Add a party to a VC whose MakeCall completed with CM_OK.  The same as
 * cm_add_party_id() with party_id NULL.
 */
int cm_add_party(cm_client *c, cm_vc_id vc, const char *party, void *req_ctx);

/*
 * Add a party and learn its id at once (since 0.2): on 0 (pending),
 * *party_id holds the id the new party will have, so the add can be
 * cancelled with cm_drop_party() before it completes (the add then
 * completes with CM_E_CLOSING, the drop with CM_OK).  The library takes the
 * id from its session's space, which the daemon honours; the completion
 * (add_party_complete) names the same id.  *party_id is 0 when the daemon
 * offered no space (one older than 0.2): the id then arrives with the
 * completion only.  party_id may be NULL.  Returns CM_E_LIMIT, and sends
 * nothing, once the session has used all of its 2^32 - 1 ids (open a new
 * handle for a new space).
 */
int cm_add_party_id(cm_client *c, cm_vc_id vc, const char *party, cm_party_id *party_id,
		    void *req_ctx);

/*
 * Drop one party that is not the last; data (up to CM_MAX_DATA octets)
 * travels to the party before it is dropped.  Also the answer to
 * incoming_drop_party, which then completes at once with CM_OK.
 */
int cm_drop_party(cm_client *c, cm_vc_id vc, cm_party_id party, const void *data,
		  size_t len, void *req_ctx);

/*
 * Close a VC, naming its last party.  With CM_CLOSE_FORCE, last_party may be
 * 0: the daemon drops every other party first and completes once.
 */
int cm_close_call(cm_client *c, cm_vc_id vc, cm_party_id last_party, const void *data,
		  size_t len, unsigned flags, void *req_ctx);

/*
 * Leaf side: accept an incoming call.  Completes through
 * accept_call_complete (since 0.2, with a daemon of 0.2 or later): CM_OK,
 * then call_connected follows (or incoming_close_call if the caller gives
 * up first); or why vc/party is no call offered to this client and waiting
 * for an answer: CM_E_NO_VC (unknown, or already gone), CM_E_NO_PARTY,
 * CM_E_PERM (another client's), CM_E_CLOSING (the caller gave up: answer
 * its incoming_close_call), CM_E_STATE (answered already, or not an
 * offered call).
 */
int cm_accept_call(cm_client *c, cm_vc_id vc, cm_party_id party);

/*
 * Leaf side: refuse an incoming call with a Q.2931 cause (e.g. 21).
 * Completes through reject_call_complete, as cm_accept_call() does.
 */
int cm_reject_call(cm_client *c, cm_vc_id vc, cm_party_id party, int cause);

/*
 * Since 0.2.  Ask for the data descriptor of vc (docs/data-path.md); it
 * arrives in data_fd_complete.  A SOCK_SEQPACKET socket: at the root of a
 * VC one send() is one SDU of 1 to max_sdu octets for every active party,
 * and after cm_close_call() was taken send() fails with EPIPE; at a leaf one
 * recv() is one SDU (use a max_sdu-octet buffer), send() fails with EPIPE,
 * and recv() returns 0 once the party was dropped or the VC closed and the
 * SDUs before that were read.  Returns 0 (pending) or CM_E_INVAL (c NULL,
 * vc 0) or CM_E_DISCONNECTED; the completion's status is CM_OK, CM_E_NO_VC
 * (not this client's VC), CM_E_STATE (the call is not active), CM_E_BUSY
 * (its descriptor was given out already), CM_E_LIMIT (the daemon or this
 * process is out of descriptors), CM_E_NOMEM or CM_E_DISCONNECTED.
 */
int cm_data_fd(cm_client *c, cm_vc_id vc, void *req_ctx);

/* A one-line English text for a status code; never NULL. */
const char *cm_strerror(int status);

#ifdef __cplusplus
}
#endif
#endif

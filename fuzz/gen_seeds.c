/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpora of the fuzz targets into DIR/<target>/:
 *   fuzz_q2931_decode  every sample message of tests/sig, encoded
 *   fuzz_sscop_pdu     a start in each state, then PDUs a real peer sends
 *   fuzz_ipc_frame     streams of valid ClientMsg frames (hello, requests)
 *   fuzz_cc_sequence   scripted call sequences in the harness's record format
 *   fuzz_data_frame    good SDUs' frames in order, with one lost, one damaged
 * Usage: gen_seeds DIR   (tools/fuzz.sh --seeds regenerates fuzz/corpus)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../tests/sig/sig_samples.h"
#include "callmgr.pb-c.h"
#include "cm_frame.h"
#include "link/sscop.h"

static const char *root;

static void put(const char *target, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* ---------------------------------------------------------------- q2931 */

static void seeds_q2931(void)
{
	for (size_t i = 0; i < N_SAMPLE_TYPES; i++) {
		struct q_msg m;
		uint8_t buf[1024];
		sample_msg(sample_types[i], &m);
		int n = q_msg_encode(&m, buf, sizeof(buf));
		if (n < 0)
			exit(1);
		char name[64];
		snprintf(name, sizeof(name), "sample-%s", q_msg_type_name(sample_types[i]));
		for (char *c = name; *c; c++)
			if (*c == ' ')
				*c = '_';
		put("fuzz_q2931_decode", name, buf, (size_t)n);
	}
	/* SETUP led by an unrecognised IE under each IE action indicator (Q.2931 §5.7.2) */
	static const uint8_t instrs[] = {0x80, 0x90, 0x91, 0x92, 0x95, 0x96};
	for (size_t i = 0; i < sizeof(instrs); i++) {
		struct q_msg m;
		uint8_t msg[1024], buf[1024 + 5];
		sample_msg(Q_MSG_SETUP, &m);
		int n = q_msg_encode(&m, msg, sizeof(msg));
		if (n < 0)
			exit(1);
		const uint8_t ie[] = {0x27, instrs[i], 0x00, 0x01, 0x01}; /* notification indicator */
		memcpy(buf, msg, Q_HDR_LEN);
		memcpy(buf + Q_HDR_LEN, ie, sizeof(ie));
		memcpy(buf + Q_HDR_LEN + sizeof(ie), msg + Q_HDR_LEN, (size_t)n - Q_HDR_LEN);
		n += (int)sizeof(ie);
		buf[7] = (uint8_t)(((unsigned)n - Q_HDR_LEN) >> 8);
		buf[8] = (uint8_t)(n - Q_HDR_LEN);
		char name[64];
		snprintf(name, sizeof(name), "setup-ie-action-%02x", instrs[i]);
		put("fuzz_q2931_decode", name, buf, (size_t)n);
	}
}

/* ---------------------------------------------------------------- sscop */

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void add(struct buf *b, const uint8_t *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void add1(struct buf *b, uint8_t v)
{
	b->b[b->n++] = v;
}

/* A raw-PDU record (op 0) of the fuzz_sscop_pdu format. */
static void pdu(struct buf *b, const uint8_t *p, size_t n)
{
	add1(b, 0);
	add1(b, (uint8_t)n);
	add(b, p, n);
}

static void word(uint8_t *p, uint8_t first, uint32_t v)
{
	p[0] = first;
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void sd(struct buf *b, uint32_t ns, const char *text)
{
	uint8_t p[64];
	size_t n = strlen(text), pad = (4 - n % 4) % 4;
	memcpy(p, text, n);
	memset(p + n, 0, pad);
	word(p + n + pad, (uint8_t)(pad << 6 | SSCOP_PDU_SD), ns);
	pdu(b, p, n + pad + 4);
}

static void two_words(struct buf *b, uint8_t type, uint32_t w1, uint32_t w2)
{
	uint8_t p[8];
	word(p, 0, w1);
	word(p + 4, type, w2);
	pdu(b, p, 8);
}

static void seeds_sscop(void)
{
	static const char *const names[] = { "idle", "outgoing", "incoming", "releasing",
					     "ready" };
	for (uint8_t st = 0; st < 5; st++) {
		struct buf b = { .n = 0 };
		add1(&b, (uint8_t)(st | 8 | 0x40));
		add1(&b, 7);
		add1(&b, 64);
		switch (st) {
		case 0: /* a peer begins, then sends data */
			two_words(&b, SSCOP_PDU_BGN, 3, 64);
			sd(&b, 0, "SETUP");
			break;
		case 1: /* answered, or refused */
			two_words(&b, SSCOP_PDU_BGAK, 0, 64);
			break;
		case 2: /* the user accepts (op 6 with bit 3) */
			add1(&b, 6 | 8);
			sd(&b, 0, "hello");
			break;
		case 3:
			two_words(&b, SSCOP_PDU_ENDAK, 0, 0);
			break;
		default: { /* data both ways, a gap, a POLL, a STAT */
			sd(&b, 0, "first");
			sd(&b, 2, "third");
			sd(&b, 1, "second");
			two_words(&b, SSCOP_PDU_POLL, 1, 3);
			uint8_t stat[12];
			word(stat, 0, 1);
			word(stat + 4, 0, 64);
			word(stat + 8, SSCOP_PDU_STAT, 3);
			pdu(&b, stat, sizeof(stat));
			add1(&b, 4 | (1 << 3)); /* Timer_POLL */
			two_words(&b, SSCOP_PDU_END, 0, 0);
			break;
		}
		}
		put("fuzz_sscop_pdu", names[st], b.b, b.n);
	}
}

/* ---------------------------------------------------------------- ipc */

static void frame(struct buf *b, const Callmgr__ClientMsg *m)
{
	size_t n = callmgr__client_msg__get_packed_size(m);
	uint8_t hdr[CMC_FRAME_HDR];
	cmc_frame_put_len(hdr, n);
	add(b, hdr, sizeof(hdr));
	callmgr__client_msg__pack(m, b->b + b->n);
	b->n += n;
}

static void seeds_ipc(void)
{
	struct buf b = { .n = 0 };
	add1(&b, 3); /* arrives in chunks of 4 */
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__Hello h = CALLMGR__HELLO__INIT;
	h.min_version = 1;
	h.max_version = 1;
	h.client_name = "seed";
	m.req_id = 1;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_HELLO;
	m.hello = &h;
	frame(&b, &m);
	put("fuzz_ipc_frame", "hello", b.b, b.n);

	Callmgr__RegisterSap rs = CALLMGR__REGISTER_SAP__INIT;
	rs.selector = 42;
	m.req_id = 2;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_REGISTER_SAP;
	m.register_sap = &rs;
	frame(&b, &m);
	Callmgr__MakeCall mc = CALLMGR__MAKE_CALL__INIT;
	Callmgr__CallParams cp = CALLMGR__CALL_PARAMS__INIT;
	cp.peak_kbps = 10000;
	cp.max_sdu = 9188;
	mc.params = &cp;
	mc.party.data = (uint8_t *)sample_aesa_a;
	mc.party.len = Q_AESA_LEN;
	m.req_id = 3;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_MAKE_CALL;
	m.make_call = &mc;
	frame(&b, &m);
	Callmgr__DropParty dp = CALLMGR__DROP_PARTY__INIT;
	dp.vc = 1;
	dp.party = 2;
	dp.data.data = (uint8_t *)"bye";
	dp.data.len = 3;
	m.req_id = 4;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_DROP_PARTY;
	m.drop_party = &dp;
	frame(&b, &m);
	Callmgr__CloseCall cc = CALLMGR__CLOSE_CALL__INIT;
	cc.vc = 1;
	cc.force = true;
	m.req_id = 5;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_CLOSE_CALL;
	m.close_call = &cc;
	frame(&b, &m);
	put("fuzz_ipc_frame", "session", b.b, b.n);

	/* a truncated frame at the end, and an oversized header */
	b.n -= 2;
	put("fuzz_ipc_frame", "truncated", b.b, b.n);
	static const uint8_t big[] = { 0, 0x00, 0x01, 0x00, 0x01, 0xff };
	put("fuzz_ipc_frame", "too-big", big, sizeof(big));
}

/* ---------------------------------------------------------------- cc */

static void seeds_cc(void)
{
	/* records of fuzz_cc_sequence (see its header): a request is op, t, a, b, c with
	 * type 1 + t % 9 and session slot (t >> 4) % 3 */
	/* register SAP 1 (session slot 0), make call to this node, accept, close */
	static const uint8_t local_call[] = {
		0x00,                   /* default limits */
		0x00, 0x00, 0x80, 0x80, 0x00, /* REGISTER_SAP, slot 0, selector 1 */
		0x00, 0x13, 0x80, 0x80, 0x00, /* MAKE_CALL, slot 1, addr this node sel 1 */
		0x00, 0x05, 0x00, 0x00, 0x00, /* ACCEPT_CALL, slot 0, first vc / party */
		0x00, 0x14, 0x00, 0x00, 0x00, /* ADD_PARTY, slot 1, to this node */
		0x00, 0x15, 0x00, 0x00, 0x00, /* DROP_PARTY */
		0x00, 0xa6, 0x00, 0x00, 0x00, /* CLOSE_CALL with force */
	};
	put("fuzz_cc_sequence", "local-call", local_call, sizeof(local_call));

	/* a call to peer 1 answered step by step, then the link drops */
	static const uint8_t remote_call[] = {
		0x00,
		0x05, 0x01,                   /* link up, peer 1 */
		0x00, 0x13, 0x80, 0x80, 0x0c, /* MAKE_CALL to peer 1 */
		0x02, 0x00, 0x01, 0x00,       /* CALL PROCEEDING answering it */
		0x02, 0x00, 0x02, 0x00,       /* ALERTING */
		0x02, 0x00, 0x03, 0x00,       /* CONNECT */
		0x00, 0x14, 0x00, 0x80, 0x0c, /* ADD_PARTY to peer 1 */
		0x02, 0x00, 0x0a, 0x00,       /* ADD PARTY ACK */
		0x02, 0x00, 0x0e, 0x00,       /* PARTY ALERTING */
		0x04, 0x00,                   /* a timer expires */
		0x05, 0x00,                   /* link down */
		0x04, 0x00,                   /* T309 */
	};
	put("fuzz_cc_sequence", "remote-call", remote_call, sizeof(remote_call));

	/* peer 1 offers a call to SAP 2, which is accepted, then released */
	static const uint8_t incoming[] = {
		0x00,
		0x00, 0x00, 0x80, 0x80, 0x01, /* REGISTER_SAP selector 2 */
		0x02, 0x04, 0x00, 0x08,       /* SETUP from peer 1 (new cref), called sel 2 */
		0x00, 0x05, 0x00, 0x00, 0x00, /* ACCEPT_CALL */
		0x02, 0x00, 0x04, 0x00,       /* CONNECT ACK */
		0x02, 0x00, 0x05, 0x00,       /* RELEASE */
		0x06, 0x00,                   /* session closes */
		0xff,                         /* shutdown */
	};
	put("fuzz_cc_sequence", "incoming-call", incoming, sizeof(incoming));

	/* every sample message as raw octets from peer 2 */
	struct buf b = { .n = 0 };
	add1(&b, 0);
	for (size_t i = 0; i < N_SAMPLE_TYPES && b.n < 3000; i++) {
		struct q_msg m;
		uint8_t enc[1024];
		sample_msg(sample_types[i], &m);
		int n = q_msg_encode(&m, enc, sizeof(enc));
		if (n < 0 || n > 255)
			continue;
		add1(&b, 0x02);
		add1(&b, 0x07); /* raw, peer 2 */
		add1(&b, (uint8_t)n);
		add1(&b, 0);
		add(&b, enc, (size_t)n);
	}
	put("fuzz_cc_sequence", "raw-samples", b.b, b.n);
}

/* The fuzz_data_frame format: max_sdu, SDU count, then ops (see the target). */
static void seeds_data(void)
{
	static const struct {
		const char *name;
		uint8_t ops[24];
		size_t n;
	} s[] = {
		{ "in-order", { 0x23, 0xdc, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, 17 },
		{ "one-lost", { 0x23, 0xdc, 7, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1 }, 14 },
		{ "one-damaged", { 0x23, 0xdc, 7, 1, 2, 20, 0x40, 1, 1, 1, 1, 1, 1, 1 }, 14 },
		{ "small-max-sdu", { 0x01, 0x00, 5, 1, 1, 1, 1, 1, 1, 1, 1 }, 11 },
		{ "timeout", { 0x23, 0xdc, 3, 1, 0xff, 0xff, 0xff, 1, 1, 1, 1 }, 11 },
	};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		put("fuzz_data_frame", s[i].name, s[i].ops, s[i].n);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	root = argv[1];
	if (mkdir(root, 0755) < 0 && errno != EEXIST) {
		perror(root);
		return 1;
	}
	seeds_q2931();
	seeds_sscop();
	seeds_ipc();
	seeds_cc();
	seeds_data();
	return 0;
}

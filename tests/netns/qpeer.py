#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A signalling peer with no daemon: it sets up an SSCOP association with
the target, acknowledges the target's RESTART, then sends hand-built
Q.2931 messages that carry the errors of Q.2931 5.6/5.7 (coded as an
independent implementation, FreeBSD ngatm, codes them) and checks the
target's answers on the wire (docs/state-machines.md, "Decoder errors").

    qpeer.py IFNAME TARGET_MAC CALLED_AESA

CALLED_AESA (40 hex digits, dots allowed) names a SAP registered on the
target whose client does not answer offers.  Prints each step; exits 0
when every answer was the one expected, 1 otherwise."""
import os
import struct
import sys

# the frame and SSCOP PDU helpers of the hostile node of the faults suite
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
from rawpeer import (BGAK, END, POLL, SD, Raw, pdu_bgn, pdu_poll, pdu_sd,  # noqa: E402
                     pdu_stat, q2931, word)

SETUP, RELEASE, RELEASE_COMPLETE, STATUS, STATUS_ENQUIRY = 0x05, 0x4D, 0x5A, 0x7D, 0x75
RESTART, RESTART_ACK = 0x46, 0x4E

# IE instruction octets (Q.2931 4.5.1): ITU-T coding, flag set, action indicator
REGULAR, DISCARD_IE, DISCARD_IE_REPORT, DISCARD_MSG = 0x80, 0x91, 0x92, 0x95
# end-to-end transit delay: valid in SETUP and RELEASE by Q.2931, not
# implemented by callmgr, so unrecognised
E2E_DELAY = 0x42


def ie(ident, contents, instr=REGULAR):
    return bytes([ident, instr]) + struct.pack(">H", len(contents)) + contents


def cause(value):
    return ie(0x08, bytes([0x80, 0x80 | value]))


def setup(cref, called, extra=b"", with_called=True):
    body = ie(0x59, bytes([0x84, 0, 0x09, 0x37, 0x85, 0, 0x09, 0x37]))  # 2359 cells/s
    body += ie(0x5E, bytes([0x90, 0x81]))  # BCOB-X, point-to-multipoint
    if with_called:
        body += ie(0x70, bytes([0x82]) + called)
    body += ie(0x5C, bytes([0, 0]))  # QoS class 0
    body += ie(0x54, bytes([0, 0, 0]))  # endpoint reference 0
    return q2931(cref, False, SETUP, body + extra)


def parse(msg):
    """(type, cref, cause, diagnostic, call state) of a Q.2931 message"""
    mtype = msg[5]
    cref = int.from_bytes(msg[2:5], "big") & 0x7FFFFF
    cv, diag, cs = None, b"", None
    i = 9
    while i + 4 <= len(msg):
        ident, ln = msg[i], struct.unpack(">H", msg[i + 2:i + 4])[0]
        body = msg[i + 4:i + 4 + ln]
        if ident == 0x08 and ln >= 2 and cv is None:
            cv, diag = body[1] & 0x7F, body[2:]
        elif ident == 0x14 and ln >= 1:
            cs = body[0] & 0x3F
        i += 4 + ln
    return mtype, cref, cv, diag, cs


class Peer(Raw):
    """rawpeer's Raw with sequence numbers: our SDs, the target's POLLs answered."""

    def __init__(self, ifname, target):
        super().__init__(ifname, target)
        self.ns = 0  # our next SD
        self.nps = 1

    def connect(self):
        self.send(pdu_bgn(1, 64))
        return any(t == BGAK for t, _ in self.recv(3.0))

    def send_msg(self, msg):
        self.send(pdu_sd(msg, self.ns))
        self.ns += 1
        self.send(pdu_poll(self.ns, self.nps))
        self.nps += 1

    def messages(self, timeout):
        """The target's Q.2931 messages until timeout, answering its POLLs."""
        got = []
        for t, pdu in self.recv(timeout):
            if t == SD:
                pl = pdu[-4] >> 6
                got.append(parse(pdu[:len(pdu) - 4 - pl]))
            elif t == POLL:
                ns = struct.unpack(">I", pdu[-4:])[0] & 0xFFFFFF
                nps = struct.unpack(">I", pdu[-8:-4])[0] & 0xFFFFFF
                self.send(pdu_stat(ns, ns + 64, nps))
        return got


FAILED = []


def check(what, ok, got):
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {[(hex(m[0]), m[1], m[2], m[4]) for m in got]}")
    if not ok:
        FAILED.append(what)


def only(got, cref):
    return [m for m in got if m[1] == cref]


def main():
    p = Peer(sys.argv[1], sys.argv[2])
    called = bytes.fromhex(sys.argv[3].replace(".", ""))
    if not p.connect():
        print("FAIL no BGAK")
        return 1
    got = p.messages(2.0)
    check("the target restarts the interface first (5.5.1)",
          any(m[0] == RESTART and m[1] == 0 for m in got), got)
    p.send_msg(q2931(0, True, RESTART_ACK, ie(0x79, bytes([0x82]))))
    p.messages(0.3)

    # 5.7.2 "discard IE and proceed": offered, nothing said about the IE
    p.send_msg(setup(1, called, ie(E2E_DELAY, b"\x00\x10", DISCARD_IE)))
    got = only(p.messages(1.0), 1)
    check("SETUP, unrecognised IE, discard IE and proceed: no answer", not got, got)

    # 5.7.2 "discard IE, proceed and report status": offered, STATUS 99
    p.send_msg(setup(2, called, ie(E2E_DELAY, b"\x00\x10", DISCARD_IE_REPORT)))
    got = only(p.messages(1.0), 2)
    check("SETUP, unrecognised IE, discard and report: STATUS 99 naming the IE, U6",
          [(m[0], m[2], m[3], m[4]) for m in got] == [(STATUS, 99, bytes([E2E_DELAY]), 6)],
          got)

    # 5.6.8.2: an optional IE with invalid contents, regular handling:
    # processed and reported (user-user data of 128 octets, one too many)
    p.send_msg(setup(3, called, ie(0x7E, bytes(129))))
    got = only(p.messages(1.0), 3)
    check("SETUP, invalid optional IE: STATUS 100, the call offered",
          [(m[0], m[2], m[4]) for m in got] == [(STATUS, 100, 6)], got)

    # 5.7.2 "discard message": a RELEASE so marked releases nothing
    p.send_msg(q2931(1, False, RELEASE, cause(16) + ie(E2E_DELAY, b"\x00\x10", DISCARD_MSG)))
    got = only(p.messages(1.0), 1)
    check("RELEASE, unrecognised IE, discard message: no answer", not got, got)
    p.send_msg(q2931(1, False, STATUS_ENQUIRY))
    got = only(p.messages(1.0), 1)
    check("... and the call is still there: STATUS 30 in U6",
          [(m[0], m[2], m[4]) for m in got] == [(STATUS, 30, 6)], got)

    # 5.6.7.1: SETUP without its called party number: RELEASE COMPLETE 96
    p.send_msg(setup(4, called, with_called=False))
    got = only(p.messages(1.0), 4)
    check("SETUP, mandatory IE missing: RELEASE COMPLETE 96",
          [(m[0], m[2]) for m in got] == [(RELEASE_COMPLETE, 96)], got)

    # 5.6.7.1: RELEASE without its cause: cleared, RELEASE COMPLETE 96
    p.send_msg(q2931(2, False, RELEASE))
    got = only(p.messages(1.0), 2)
    check("RELEASE, cause missing: RELEASE COMPLETE 96",
          [(m[0], m[2]) for m in got] == [(RELEASE_COMPLETE, 96)], got)

    # the rest cleared normally
    for cref in (1, 3):
        p.send_msg(q2931(cref, False, RELEASE, cause(16)))
        got = only(p.messages(1.0), cref)
        check(f"RELEASE of call {cref}: RELEASE COMPLETE",
              [m[0] for m in got] == [RELEASE_COMPLETE], got)
    p.send(word(0, 0) + word(END, 0))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A hostile node: raw callmgr frames (EtherType 0x88B5) from this
namespace's interface to a target MAC, built by hand (docs/wire.md).

    rawpeer.py IFNAME TARGET_MAC stranger
        an SSCOP POLL and an SD from a MAC with no association: the target
        must answer END (and count frames_unknown_peer), never deliver.
    rawpeer.py IFNAME TARGET_MAC outsider
        BGN, SD and POLL from a MAC outside the target's allowed_peers: the
        target must not answer at all (no BGAK, no END, nothing).
    rawpeer.py IFNAME TARGET_MAC forged CREF
        BGN (waits for BGAK), then SDs carrying a CONNECT and a RELEASE for
        call reference CREF (flag set: "from the side that did not
        originate") that this node never set up: each must be answered by
        RELEASE COMPLETE with cause 81.
Prints what it saw; exits 0 when the target behaved, 1 otherwise.
"""
import socket
import struct
import sys
import time

ETH_P = 0x88B5
BGN, BGAK, END, SD, POLL, STAT = 0x1, 0x2, 0x3, 0x8, 0xA, 0xB


def word(first, value):
    return struct.pack(">I", (first << 24) | (value & 0xFFFFFF))


def pdu_bgn(nsq, nmr):
    return word(0, nsq) + word(BGN, nmr)


def pdu_poll(ns, nps):
    return word(0, nps) + word(POLL, ns)


def pdu_sd(info, ns):
    pad = (-len(info)) % 4
    return info + b"\0" * pad + word((pad << 6) | SD, ns)


def pdu_stat(nr, nmr, nps):
    return word(0, nps) + word(0, nmr) + word(STAT, nr)


def q2931(cref, flag, mtype, ies=b""):
    cr = cref | (0x800000 if flag else 0)
    return bytes([0x09, 0x03]) + cr.to_bytes(3, "big") + bytes([mtype, 0x80]) + \
        struct.pack(">H", len(ies)) + ies


CAUSE_NORMAL = bytes([0x08, 0x80, 0x00, 0x02, 0x80, 0x90])  # cause 16, user


class Raw:
    def __init__(self, ifname, target):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P))
        self.s.bind((ifname, ETH_P))
        self.mac = self.s.getsockname()[4]
        self.dst = bytes.fromhex(target.replace(":", ""))

    def send(self, pdu):
        f = self.dst + self.mac + struct.pack(">HH", ETH_P, len(pdu)) + pdu
        self.s.send(f + b"\0" * max(0, 60 - len(f)))

    def recv(self, timeout):
        """PDUs from the target until timeout: (type, pdu) pairs"""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            self.s.settimeout(left)
            try:
                f, addr = self.s.recvfrom(2048)
            except socket.timeout:
                return
            if addr[2] == socket.PACKET_OUTGOING or f[6:12] != self.dst:
                continue
            (n,) = struct.unpack(">H", f[14:16])
            pdu = f[16:16 + n]
            yield pdu[-4] & 0x0F, pdu


def q_cause(msg):
    """(message type, first cause value) of a Q.2931 message"""
    mtype = msg[5]
    i = 9
    while i + 4 <= len(msg):
        ie, ln = msg[i], struct.unpack(">H", msg[i + 2:i + 4])[0]
        if ie == 0x08 and ln >= 2:
            return mtype, msg[i + 5] & 0x7F
        i += 4 + ln
    return mtype, None


def stranger(r):
    r.send(pdu_poll(5, 1))
    r.send(pdu_sd(q2931(7, True, 0x07), 0))
    ends = sum(1 for t, _ in r.recv(1.0) if t == END)
    print(f"END answers to a stranger's POLL and SD: {ends}")
    return ends >= 1


def outsider(r):
    r.send(pdu_bgn(1, 64))
    r.send(pdu_sd(q2931(7, True, 0x05), 0))  # SETUP
    r.send(pdu_poll(1, 1))
    got = [t for t, _ in r.recv(1.5)]
    print(f"answers to an outsider's BGN, SD and POLL: {got}")
    return not got


def forged(r, cref):
    r.send(pdu_bgn(1, 64))
    if not any(t == BGAK for t, _ in r.recv(2.0)):
        print("no BGAK")
        return False
    print("association up")
    r.send(pdu_sd(q2931(cref, True, 0x07), 0))  # CONNECT
    r.send(pdu_sd(q2931(cref, True, 0x4D, CAUSE_NORMAL), 1))  # RELEASE
    r.send(pdu_poll(2, 1))
    got = []
    for t, pdu in r.recv(2.0):
        if t == SD:
            pl = pdu[-4] >> 6
            msg = pdu[:-4][:len(pdu) - 4 - pl]
            mtype, cause = q_cause(msg)
            print(f"SD from target: type 0x{mtype:02x} cause {cause}")
            if mtype == 0x5A:
                got.append(cause)
        elif t == POLL:
            ns = struct.unpack(">I", pdu[-4:])[0] & 0xFFFFFF
            nps = struct.unpack(">I", pdu[-8:-4])[0] & 0xFFFFFF
            r.send(pdu_stat(ns, ns + 64, nps))
    print(f"RELEASE COMPLETE causes: {got}")
    return got == [81, 81]


def main():
    r = Raw(sys.argv[1], sys.argv[2])
    mode = sys.argv[3]
    if mode == "stranger":
        ok = stranger(r)
    elif mode == "outsider":
        ok = outsider(r)
    else:
        ok = forged(r, int(sys.argv[4], 0))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

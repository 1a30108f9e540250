#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A netem stand-in: relays Ethernet frames between two interfaces, losing,
duplicating, reordering and delaying them as told.

The kernels these tests run on may lack sch_netem (tc says "Specified qdisc
kind is unknown"), so the impairment is done here, in user space, on the
path between a node's veth and the bridge.  Both directions are impaired.

    impair.py IF_A IF_B      (commands on stdin, one a line)

Commands:
    set loss=P dup=P reorder=P delay=MS     percentages 0..100, delay in ms
    clear                                   no impairment
    stats                                   print "stats fwd=N lost=N dup=N reordered=N"
Prints "ready" once both sockets are bound.
"""
import heapq
import os
import random
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
# a reordered frame is held this much longer than the others, so the frames
# behind it overtake it
REORDER_HOLD = 0.030


def open_raw(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def main():
    if_a, if_b = sys.argv[1], sys.argv[2]
    a, b = open_raw(if_a), open_raw(if_b)
    other = {a: b, b: a}
    cfg = {"loss": 0.0, "dup": 0.0, "reorder": 0.0, "delay": 0.0}
    ctr = {"fwd": 0, "lost": 0, "dup": 0, "reordered": 0}
    queue = []  # (due, seq, socket, frame)
    seq = 0
    rng = random.Random(int(os.environ.get("IMPAIR_SEED", "0")) or None)
    stdin_buf = b""
    print("ready", flush=True)

    def schedule(due, sock, frame):
        nonlocal seq
        seq += 1
        heapq.heappush(queue, (due, seq, sock, frame))

    while True:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, sock, frame = heapq.heappop(queue)
            try:
                sock.send(frame)
                ctr["fwd"] += 1
            except OSError:
                ctr["lost"] += 1  # the far interface is down: the frame is gone
        timeout = max(0.0, queue[0][0] - now) if queue else None
        readable, _, _ = select.select([a, b, sys.stdin], [], [], timeout)
        for r in readable:
            if r is sys.stdin:
                chunk = os.read(sys.stdin.fileno(), 4096)
                if not chunk:
                    return
                stdin_buf += chunk
                while b"\n" in stdin_buf:
                    line, stdin_buf = stdin_buf.split(b"\n", 1)
                    words = line.decode().split()
                    if not words:
                        continue
                    if words[0] == "set":
                        for w in words[1:]:
                            k, v = w.split("=")
                            cfg[k] = float(v)
                    elif words[0] == "clear":
                        cfg.update(loss=0.0, dup=0.0, reorder=0.0, delay=0.0)
                    elif words[0] == "stats":
                        print("stats " + " ".join(f"{k}={v}" for k, v in ctr.items()),
                              flush=True)
                continue
            while True:
                try:
                    frame, addr = r.recvfrom(65535)
                except BlockingIOError:
                    break
                except OSError:
                    break  # interface went down under us
                if addr[2] == PACKET_OUTGOING:
                    continue  # our own transmission, seen again
                if rng.random() * 100 < cfg["loss"]:
                    ctr["lost"] += 1
                    continue
                due = time.monotonic() + cfg["delay"] / 1000
                if rng.random() * 100 < cfg["reorder"]:
                    ctr["reordered"] += 1
                    due += REORDER_HOLD
                schedule(due, other[r], frame)
                if rng.random() * 100 < cfg["dup"]:
                    ctr["dup"] += 1
                    schedule(due + 0.0001, other[r], frame)


if __name__ == "__main__":
    main()

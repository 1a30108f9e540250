#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Wireshark with tools/callmgr.lua must read the data frames data_pcap
writes (made by daemon/data/frame.c) as data_pcap says: every header
field, the AAL5 trailer of each last fragment, the CRC status of the
reassembled PDU (good, bad for a flipped octet, not verified for a missing
fragment), and an expert error on each frame a receiver drops.

usage: tshark_data_check.py DATA_PCAP_PROGRAM CALLMGR_LUA.  Exit 77 (skip)
without tshark."""
import os
import subprocess
import sys
import tempfile

import tshark_fields

FIELDS = ["frame.number", "callmgr_data.vci", "callmgr_data.seq", "callmgr_data.frag",
          "callmgr_data.flags", "callmgr_data.sdu_length", "callmgr_data.crc",
          "callmgr_data.crc.status", "callmgr_data.pdu_length", "callmgr_data.fragments",
          "_ws.expert.message", "_ws.malformed"]
STATUS = {"good": "1", "bad": "2", "unverified": "0"}


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    program, lua = sys.argv[1:]
    tshark_fields.tshark_path()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "data.pcap")
        made = subprocess.run([program, pcap], capture_output=True, text=True, check=True)
        decoded, errors = tshark_fields.decode(pcap, lua, FIELDS)
    rows = {r["frame.number"]: r for r in decoded}
    expected = made.stdout.splitlines()
    if len(rows) != len(expected):
        errors.append(f"{len(rows)} frames decoded, {len(expected)} written")
    for line in expected:
        w = line.split()
        r = rows.get(w[0])
        if r is None:
            errors.append(f"frame {w[0]}: not decoded")
            continue
        errors += [f"frame {w[0]} ({line}): {e}" for e in check(w[1], w[2:], r)]
    for e in errors:
        print("FAIL", e)
    print(f"{len(expected)} frames checked, {len(errors)} problems")
    return 1 if errors else 0


def check(kind, w, r):
    """What is wrong with row r, expected to be of kind with values w."""
    got = r["_ws.expert.message"]
    if kind == "malformed":
        return [] if got.startswith(w[0]) else [f"expert info {got!r}, expected {w[0]}..."]
    errors = []
    flags = int(r["callmgr_data.flags"] or "-1", 0)
    header = [r["callmgr_data.vci"], r["callmgr_data.seq"], r["callmgr_data.frag"], str(flags & 1)]
    if header != w[:4] or flags & 0xFE:
        errors.append(f"header VCI/seq/frag/last {header}, flags {flags:#x}")
    if r["_ws.malformed"]:
        errors.append("malformed")
    if kind == "frag":
        if got or r["callmgr_data.crc.status"]:
            errors.append(f"a fragment before the last has {got!r} / a CRC status")
        return errors
    if r["callmgr_data.crc.status"] != STATUS[kind]:
        errors.append(f"CRC status {r['callmgr_data.crc.status']!r}, not {kind}")
    if kind == "good":
        trailer = [r["callmgr_data.sdu_length"], r["callmgr_data.pdu_length"],
                   r["callmgr_data.fragments"], "%08x" % int(r["callmgr_data.crc"] or "0", 0)]
        if trailer != w[4:]:
            errors.append(f"SDU length, PDU length, fragments, CRC {trailer}, not {w[4:]}")
        if got:
            errors.append(f"expert info {got!r} on a good SDU")
    elif kind == "bad" and "CRC-32 wrong" not in got:
        errors.append(f"expert info {got!r}, no CRC error")
    elif kind == "unverified" and "not in the capture" not in got:
        errors.append(f"expert info {got!r}, no note of the missing fragment")
    return errors


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Judge the data frames of a lossless capture with Wireshark and
tools/callmgr.lua (docs/wire.md, "Data frames").  The capture holds a
root's signalling and data: N SDUs whose lengths cycle through SIZES, made
by tests/sdu_digest.h's sdu_make, sent to each leaf node once.

Fails unless, as tshark decodes them:
  - no frame is malformed or has a Lua error, and no data frame has an
    expert note of any level (a bad CRC, a header receivers drop, a
    fragment missing from the capture);
  - every data frame goes from ROOT_MAC to one of the LEAF_MACs, labelled
    with the VPCI/VCI of the connection identifier that leaf node sent in
    its CONNECT to the root; each leaf node gets exactly one leg;
  - on each leg the SDUs are numbered 0..N-1, each cut into fragments
    0, 1, ... of 1,488 octets but the last, whose AAL5 trailer gives the
    SDU length the root sent (SIZES[k % len]); tshark's CRC status is Good
    and the CRC field equals the CRC-32/BZIP2 computed here over the
    reassembled PDU; the PDU is the SDU the root sent, octet for octet,
    then zero pad.

usage: data_wire_check.py PCAP CALLMGR_LUA N SIZES ROOT_MAC LEAF_MAC...
Exit 77 without tshark."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
import tshark_fields  # noqa: E402  (tests/data/tshark_fields.py)

FIELDS = ["frame.number", "eth.type", "eth.src", "eth.dst", "q2931.message_type",
          "q2931.conn_id.vpci", "q2931.conn_id.vci", "callmgr_data.vpci", "callmgr_data.vci",
          "callmgr_data.seq", "callmgr_data.frag", "callmgr_data.flags",
          "callmgr_data.length", "callmgr_data.payload", "callmgr_data.sdu_length",
          "callmgr_data.crc", "callmgr_data.crc.status", "_ws.malformed",
          "_ws.expert.message"]
CONNECT = 0x07
FRAG = 1488


def _crc_entry(i):
    c = i << 24
    for _ in range(8):
        c = ((c << 1) ^ 0x04C11DB7) if c & 0x80000000 else c << 1
    return c & 0xFFFFFFFF


CRC_TABLE = [_crc_entry(i) for i in range(256)]


def crc32_bzip2(data):
    """CRC-32/BZIP2, as daemon/data/frame.c (computed here, not by tshark)"""
    crc = 0xFFFFFFFF
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ CRC_TABLE[(crc >> 24) ^ b]
    return crc ^ 0xFFFFFFFF


def fnv(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def sdu_make(length, seq):
    """tests/sdu_digest.h, sdu_make"""
    b = bytearray((seq * 31 + i * 7) & 0xFF for i in range(length))
    if length >= 12:
        b[0:8] = struct.pack("<II", seq, length)
        b[8:12] = struct.pack("<I", fnv(b[12:]))
    return bytes(b)


def number(text):
    return int(text, 0) if text else None


def main():
    if len(sys.argv) < 7:
        print(__doc__)
        return 2
    pcap, lua, n_sdus, sizes, root = sys.argv[1:6]
    leaves = [m.lower() for m in sys.argv[6:]]
    root = root.lower()
    n_sdus = int(n_sdus)
    sizes = [int(s) for s in sizes.split(",")]
    rows, errors = tshark_fields.decode(pcap, lua, FIELDS, verbose=True)

    labels = set()      # (root, leaf, vpci, vci) from the leaf's CONNECT
    legs = {}           # (dst, vpci, vci) -> [data frame rows]
    n_data = n_sig = 0
    for r in rows:
        where = f"frame {r['frame.number']}"
        if r["_ws.malformed"]:
            errors.append(f"{where}: malformed")
        if r["eth.type"] == "0x88b5":
            n_sig += 1
            if number(r["q2931.message_type"].split(";")[0] or None) == CONNECT \
                    and r["q2931.conn_id.vci"]:
                labels.add((r["eth.dst"], r["eth.src"], number(r["q2931.conn_id.vpci"]),
                            number(r["q2931.conn_id.vci"])))
            continue
        if r["eth.type"] != "0x88b6":
            errors.append(f"{where}: EtherType {r['eth.type']!r} is not callmgr's")
            continue
        n_data += 1
        if r["_ws.expert.message"]:
            errors.append(f"{where}: expert info {r['_ws.expert.message']!r}")
        if not r["callmgr_data.vci"]:
            errors.append(f"{where}: the data frame's header is not decoded")
            continue
        if r["eth.src"] != root or r["eth.dst"] not in leaves:
            errors.append(f"{where}: data {r['eth.src']} -> {r['eth.dst']}, "
                          f"not from the root {root} to a leaf node")
            continue
        key = (r["eth.dst"], number(r["callmgr_data.vpci"]), number(r["callmgr_data.vci"]))
        if (root, key[0], key[1], key[2]) not in labels:
            errors.append(f"{where}: label VPCI {key[1]} VCI {key[2]} to {key[0]} "
                          f"is in no CONNECT from that node (CONNECTs: {sorted(labels)})")
        legs.setdefault(key, []).append(r)

    for leaf in leaves:
        mine = [k for k in legs if k[0] == leaf]
        if len(mine) != 1:
            errors.append(f"leaf node {leaf}: {len(mine)} legs carry data, not 1")
    for key, rows in sorted(legs.items()):
        errors += check_leg(key, rows, n_sdus, sizes)
        print(f"leg to {key[0]} VPCI {key[1]} VCI {key[2]}: {len(rows)} data frames")
    for e in errors[:40]:
        print("FAIL", e)
    print(f"{n_sig} signalling and {n_data} data frames checked, {len(errors)} problems")
    return 1 if errors else 0


def check_leg(key, rows, n_sdus, sizes):
    """The SDUs of one leg, in capture order: 0..n_sdus-1, each whole."""
    errors = []
    expect_seq, frag, pdu = 0, 0, bytearray()
    leg = f"leg to {key[0]} VCI {key[2]}"
    for r in rows:
        where = f"{leg}, frame {r['frame.number']}"
        seq, f = number(r["callmgr_data.seq"]), number(r["callmgr_data.frag"])
        last = number(r["callmgr_data.flags"]) & 1
        payload = bytes.fromhex(r["callmgr_data.payload"].replace(":", ""))
        if len(payload) != number(r["callmgr_data.length"]):
            errors.append(f"{where}: {len(payload)} payload octets, length field says "
                          f"{r['callmgr_data.length']}")
        if seq != expect_seq % 65536 or f != frag:
            errors.append(f"{where}: SDU {seq} fragment {f}, expected SDU {expect_seq} "
                          f"fragment {frag}")
            return errors  # the rest would only repeat it
        if not last and len(payload) != FRAG:
            errors.append(f"{where}: a fragment before the last of {len(payload)} octets")
        pdu += payload
        frag += 1
        if not last:
            continue
        want = sizes[expect_seq % len(sizes)]
        sdu_len, crc = number(r["callmgr_data.sdu_length"]), number(r["callmgr_data.crc"])
        if sdu_len != want:
            errors.append(f"{where}: SDU {expect_seq}: trailer length {sdu_len}, sent {want}")
        if r["callmgr_data.crc.status"] != "1":
            errors.append(f"{where}: SDU {expect_seq}: CRC status "
                          f"{r['callmgr_data.crc.status']!r}, not Good")
        if crc != crc32_bzip2(pdu[:-4]):
            errors.append(f"{where}: SDU {expect_seq}: CRC field {crc:#x}, "
                          f"computed {crc32_bzip2(pdu[:-4]):#x}")
        body = sdu_make(want, expect_seq)
        if bytes(pdu[:want]) != body or any(pdu[want:-8]) or len(pdu) % 48:
            errors.append(f"{where}: SDU {expect_seq} is not the one the root sent")
        expect_seq, frag, pdu = expect_seq + 1, 0, bytearray()
    if frag:
        errors.append(f"{leg}: SDU {expect_seq} has no last fragment")
    if expect_seq != n_sdus:
        errors.append(f"{leg}: {expect_seq} whole SDUs, the root sent {n_sdus}")
    return errors


if __name__ == "__main__":
    sys.exit(main())

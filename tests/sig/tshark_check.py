#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Wireshark must read every message the codec writes: right type, right
length, the same IEs in the same order, no malformed packet, no expert
error.  usage: tshark_check.py SIG_PCAP_PROGRAM CALLMGR_LUA.  Exit 77 (skip)
without tshark."""
import os
import shutil
import subprocess
import sys
import tempfile

# Wireshark 4.0's q2931 dissector loops over the AAL parameters and ATM
# traffic descriptor subfields with "while (len >= 0)" and so reads the
# next IE's identifier as one more subfield: a warning on every correct
# encoding (and a Malformed if the IE ended the message).  Only these two
# warnings, and only for those IEs, are tolerated.
KNOWN_WARNINGS = {
    "Unknown AAL parameter": "58",
    "Unknown ATM traffic descriptor element": "59",
}
PI_WARN = 0x00600000
PI_ERROR = 0x00800000


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    tshark = shutil.which("tshark")
    if tshark is None:
        print("tshark not installed: skipped")
        return 77
    gen, lua = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "sig.pcap")
        expected = subprocess.run([gen, pcap], check=True, capture_output=True,
                                  text=True).stdout.splitlines()
        base = [tshark, "-n", "-X", "lua_script:" + lua, "-o", "sscop.payload:Q.2931",
                "-r", pcap]
        fields = subprocess.run(
            base + ["-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                    "-E", "aggregator=,", "-e", "frame.number", "-e", "sscop.type",
                    "-e", "q2931.message_type", "-e", "q2931.message_len",
                    "-e", "q2931.information_element", "-e", "_ws.malformed",
                    "-e", "_ws.expert.severity", "-e", "_ws.expert.message"],
            check=True, capture_output=True, text=True)
        verbose = subprocess.run(base + ["-V"], check=True, capture_output=True,
                                 text=True)
    errors = []
    for stream in (fields.stderr, verbose.stderr):
        for line in stream.splitlines():
            if "Running as user" not in line:
                errors.append("tshark stderr: " + line)
    for bad in ("[Malformed", "Expert Info (Error", "Lua Error"):
        if bad in verbose.stdout:
            errors.append("tshark -V output contains " + bad)
    rows = fields.stdout.splitlines()
    if len(rows) != len(expected):
        errors.append(f"{len(rows)} frames decoded, {len(expected)} written")
    for row, want in zip(rows, expected):
        num, sscop_type, mtype, mlen, ies, malformed, sev, msgs = row.split("|")
        wtype, wlen, wies = want.split()
        wies = "" if wies == "-" else wies
        where = f"frame {num} (type {wtype})"
        if sscop_type != "0x08":
            errors.append(f"{where}: SSCOP type {sscop_type!r}, not SD")
        if mtype != "0x" + wtype:
            errors.append(f"{where}: Q.2931 message type {mtype!r}")
        if mlen != wlen:
            errors.append(f"{where}: message length {mlen!r}, want {wlen}")
        got_ies = ",".join(f"{int(x, 16):02x}" for x in ies.split(",") if x)
        if got_ies != wies:
            errors.append(f"{where}: IEs {got_ies!r}, want {wies!r}")
        if malformed:
            errors.append(f"{where}: malformed")
        for s, text in zip(sev.split(",") if sev else [], msgs.split(",") if msgs else []):
            level = int(s, 0)
            if level >= PI_ERROR:
                errors.append(f"{where}: expert error {text!r}")
            elif level >= PI_WARN and KNOWN_WARNINGS.get(text) not in wies.split(","):
                errors.append(f"{where}: expert warning {text!r}")
    for e in errors:
        print("FAIL", e)
    print(f"{len(rows)} frames checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

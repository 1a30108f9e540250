#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Judge a live capture with Wireshark's own sscop and q2931 dissectors:
every frame must decode with no malformed mark and no expert error (and no
expert warning but the two known Wireshark 4.0 ones, on the IEs that cause
them), and each Q.2931 message type named on the command line must appear.

usage: wire_check.py [--restart-first] PCAP CALLMGR_LUA [TYPE...]
TYPE is a message name as docs/wire.md spells it, e.g. SETUP "ADD PARTY".
--restart-first: no node sends a SETUP to a peer while its RESTART to that
peer awaits RESTART ACKNOWLEDGE (Q.2931 5.5.1); for captures without loss,
where a RESTART seen twice is a new one, not a retransmission.
Prints one line per message type seen with its count.  Exit 77 without tshark."""
import collections
import shutil
import subprocess
import sys

MESSAGE_TYPES = {
    "SETUP": 0x05, "CALL PROCEEDING": 0x02, "ALERTING": 0x01, "CONNECT": 0x07,
    "CONNECT ACKNOWLEDGE": 0x0F, "RELEASE": 0x4D, "RELEASE COMPLETE": 0x5A,
    "STATUS": 0x7D, "STATUS ENQUIRY": 0x75, "ADD PARTY": 0x80,
    "ADD PARTY ACKNOWLEDGE": 0x81, "ADD PARTY REJECT": 0x82, "DROP PARTY": 0x83,
    "DROP PARTY ACKNOWLEDGE": 0x84, "PARTY ALERTING": 0x85, "RESTART": 0x46,
    "RESTART ACKNOWLEDGE": 0x4E,
}
NAMES = {v: k for k, v in MESSAGE_TYPES.items()}

# Wireshark 4.0 reads one octet past the AAL parameters (IE 0x58) and ATM
# traffic descriptor (IE 0x59) and warns about it on every correct encoding
# (see tests/sig/tshark_check.py); tolerated only in frames carrying that IE.
KNOWN_WARNINGS = {
    "Unknown AAL parameter": 0x58,
    "Unknown ATM traffic descriptor element": 0x59,
}
PI_WARN = 0x00600000
PI_ERROR = 0x00800000


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    tshark = shutil.which("tshark")
    if tshark is None:
        print("tshark not installed: skipped")
        return 77
    args = sys.argv[1:]
    restart_first = "--restart-first" in args
    args = [a for a in args if a != "--restart-first"]
    pcap, lua, wanted = args[0], args[1], args[2:]
    for name in wanted:
        if name not in MESSAGE_TYPES:
            print(f"unknown message type {name!r}")
            return 2
    base = [tshark, "-n", "-X", "lua_script:" + lua, "-o", "sscop.payload:Q.2931", "-r", pcap]
    run = subprocess.run(
        base + ["-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                "-E", "aggregator=,", "-e", "frame.number", "-e", "eth.type",
                "-e", "sscop.type", "-e", "q2931.message_type",
                "-e", "q2931.information_element", "-e", "_ws.malformed",
                "-e", "_ws.expert.severity", "-e", "_ws.expert.message",
                "-e", "eth.src", "-e", "eth.dst"],
        capture_output=True, text=True)
    verbose = subprocess.run(base + ["-V"], capture_output=True, text=True)
    errors = []
    if run.returncode or verbose.returncode:
        errors.append(f"tshark exited {run.returncode}/{verbose.returncode}")
    for stream in (run.stderr, verbose.stderr):
        for line in stream.splitlines():
            if "Running as user" not in line:
                errors.append("tshark stderr: " + line)
    for bad in ("[Malformed", "Expert Info (Error", "Lua Error"):
        if bad in verbose.stdout:
            errors.append("tshark -V output contains " + bad)
    seen = collections.Counter()
    rows = run.stdout.splitlines()
    sd = 0
    restarting = set()  # (from, to): a RESTART not yet acknowledged
    for row in rows:
        num, etype, sscop_type, mtypes, ies, malformed, sev, msgs, src, dst = row.split("|")
        where = f"frame {num}"
        if etype != "0x88b5":
            errors.append(f"{where}: EtherType {etype!r} is not callmgr's")
            continue
        if not sscop_type:
            errors.append(f"{where}: not decoded as SSCOP")
        if sscop_type == "0x08":
            sd += 1
            if not mtypes:
                errors.append(f"{where}: SD PDU without a Q.2931 message")
        for t in mtypes.split(",") if mtypes else []:
            seen[int(t, 16)] += 1
            if not restart_first:
                continue
            if int(t, 16) == MESSAGE_TYPES["RESTART"]:
                restarting.add((src, dst))
            elif int(t, 16) == MESSAGE_TYPES["RESTART ACKNOWLEDGE"]:
                restarting.discard((dst, src))
            elif int(t, 16) == MESSAGE_TYPES["SETUP"] and (src, dst) in restarting:
                errors.append(f"{where}: SETUP {src} -> {dst} before its RESTART was acknowledged")
        ie_set = {int(x, 16) for x in ies.split(",") if x}
        if malformed:
            errors.append(f"{where}: malformed")
        for s, text in zip(sev.split(",") if sev else [], msgs.split(",") if msgs else []):
            level = int(s, 0)
            if level >= PI_ERROR:
                errors.append(f"{where}: expert error {text!r}")
            elif level >= PI_WARN and KNOWN_WARNINGS.get(text) not in ie_set:
                errors.append(f"{where}: expert warning {text!r}")
    for t, n in sorted(seen.items()):
        print(f"seen {NAMES.get(t, hex(t))}: {n}")
    for name in wanted:
        if not seen[MESSAGE_TYPES[name]]:
            errors.append(f"no {name} on the wire")
    if not rows:
        errors.append("no frames captured")
    for e in errors:
        print("FAIL", e)
    print(f"{len(rows)} frames ({sd} SD) checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

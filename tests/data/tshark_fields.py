# SPDX-License-Identifier: MIT
"""Reading a capture through tshark and tools/callmgr.lua, for the data
path's Wireshark checks (tests/data/tshark_data_check.py,
tests/netns/data_wire_check.py)."""
import shutil
import subprocess
import sys

SKIPPED = 77


def tshark_path():
    """tshark's path; without it the calling check is skipped (exit 77)."""
    found = shutil.which("tshark")
    if not found:
        print("tshark not installed: skipped")
        sys.exit(SKIPPED)
    return found


def decode(pcap, lua, fields, verbose=False):
    """(rows, problems): one dict of field -> text per frame (a field seen
    more than once is joined with ';'), and what tshark itself complained
    of: its exit status, anything on stderr, and with verbose also a
    malformed mark or Lua error anywhere in its -V output."""
    base = [tshark_path(), "-n", "-X", "lua_script:" + lua, "-o", "sscop.payload:Q.2931",
            "-r", pcap]
    cmd = base + ["-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                  "-E", "aggregator=;"]
    for name in fields:
        cmd += ["-e", name]
    runs = [subprocess.run(cmd, capture_output=True, text=True)]
    if verbose:
        runs.append(subprocess.run(base + ["-V"], capture_output=True, text=True))
        for bad in ("[Malformed", "Lua Error"):
            if bad in runs[1].stdout:
                runs[0].returncode = runs[0].returncode or 1
                runs[0].stderr += f"\n-V output contains {bad}"
    problems = []
    for run in runs:
        if run.returncode:
            problems.append(f"tshark exited {run.returncode}")
        problems += ["tshark: " + line for line in run.stderr.splitlines()
                     if line and "Running as user" not in line]
    rows = [dict(zip(fields, line.split("|"))) for line in runs[0].stdout.splitlines()]
    return rows, problems

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile local users against callmgrd's socket (issue 13), each bounded:

  slowloris    one byte every 2 s before the hello: cut at the 10 s hello
               deadline (not 36 s and more), measured from the connect
  emfile       RLIMIT_NOFILE 64 and 200 clients: accepting pauses instead of
               spinning (daemon under 10% CPU over 2 s, under 50 "accept"
               log lines), and once the clients go a new one is served
  live_socket  a second callmgrd on the same --socket refuses to start and
               leaves the first's socket alone; a daemon never unlinks a
               socket that is no longer the one it bound
  modes        under umask 0077 the socket directory it makes is 0755 and
               the socket 0666 (docs/ipc.md), so non-root clients connect
  admin_group  admin by a supplementary group (SO_PEERGROUPS), not only by
               the primary one
  config_nul   a config line with a NUL byte is refused with FILE:LINE by
               --check-config, and by SIGHUP (the daemon keeps running on
               the old configuration)
  monitors     1,000 monitor subscribers that never read: 64 are taken
               (max_monitors), another client keeps at least a quarter of
               its call rate (1,722/s of 394,563 before: 0.4%), RSS under
               96 MiB (381 MB before; 4 times the caps under ASan)
  budgets      8 sessions of one user calling its own SAP with
               max_vcs_per_user 20,000: refused CM_E_LIMIT / cause 47 at the
               budget, RSS under 64 MiB; another user still calls
  slow_owner   a SAP owner taking 1 ms per event under 4,000 calls with
               2,048 in flight: never disconnected, the calls past 256
               unanswered refused at once (cause 41), cmctl answers in 1 s
  output_total 32 sessions of 4 users that send GetStatus and never read,
               max_output_total 4 MiB: all held, output_queued within the
               budget plus 64 KiB and an answer each (128 MiB at their own
               session_output_bytes), RSS grows under 48 MiB, cmctl
               answers in 1 s, nobody is disconnected

    ipc.py BUILD_DIR [CASE...]
Root only (uid/gid switching, rlimits); exits 77 otherwise.
"""
import grp
import json
import os
import resource
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1]
CALLMGRD = os.path.join(BUILD, "daemon", "callmgrd")
MONFLOOD = os.path.join(BUILD, "tests", "hostile", "monflood")
HOG = os.path.join(BUILD, "tests", "hostile", "hog")
with open(CALLMGRD, "rb") as _f:
    # AddressSanitizer's shadow memory and quarantine: RSS caps are wider
    RSS_SCALE = 4 if b"__asan_init" in _f.read() else 1
CMCTL = os.path.join(BUILD, "tools", "cmctl")
HZ = os.sysconf("SC_CLK_TCK")
TMP = tempfile.mkdtemp(prefix="cmhostile-ipc.")
failures = []


def log(*a):
    print(time.strftime("[%H:%M:%S]"), *a, flush=True)


def check(cond, what):
    if not cond:
        failures.append(what)
        log("FAIL:", what)
    return cond


class Daemon:
    def __init__(self, sock, conf=None, nofile=None, umask=None, name="d"):
        self.sock = sock
        self.logpath = os.path.join(TMP, name + ".log")
        args = [CALLMGRD, "--foreground", "--socket", sock, "--log-level", "info",
                "--log-target", "stderr"]
        if conf:
            args += ["--config", conf]

        def pre():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
            if umask is not None:
                os.umask(umask)
        self.logf = open(self.logpath, "w")
        env = dict(os.environ)
        if RSS_SCALE > 1:
            # ASan's quarantine would hold freed output as if it were in use
            asan = env.get("ASAN_OPTIONS", "")
            env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "quarantine_size_mb=8"
        self.p = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT,
                                  preexec_fn=pre, env=env)

    def wait_socket(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.sock) and self.p.poll() is None:
                try:
                    c = socket.socket(socket.AF_UNIX)
                    c.connect(self.sock)
                    c.close()
                    return True
                except OSError:
                    pass
            if self.p.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def ticks(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def rss_kb(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def log_text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                return self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                return self.p.wait()
        return self.p.returncode


def cmctl(sock, *args, timeout=10, user=None):
    def pre():
        if user:
            uid, gid, groups = user
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
    r = subprocess.run([CMCTL, "-s", sock, *args], capture_output=True, text=True,
                       timeout=timeout, preexec_fn=pre)
    return r.returncode, r.stdout + r.stderr


def case_slowloris():
    sock = os.path.join(TMP, "slow.sock")
    d = Daemon(sock, name="slow")
    check(d.wait_socket(), "daemon did not start")
    c = socket.socket(socket.AF_UNIX)
    c.connect(sock)
    c.settimeout(0.1)
    t0 = time.time()
    closed_at = None
    # a frame header announcing 60000 octets, one byte at a time
    trickle = b"\x00\x00\xea\x60" + b"\x00" * 100
    i = 0
    while time.time() - t0 < 25:
        try:
            if c.recv(1) == b"":
                closed_at = time.time() - t0
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed_at = time.time() - t0
            break
        if time.time() - t0 >= 2 * i:
            try:
                c.send(trickle[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed_at = time.time() - t0
                break
            i += 1
    log(f"slowloris: cut after {closed_at} s ({i} bytes sent)")
    check(closed_at is not None and closed_at < 11.5,
          f"slowloris session lived {closed_at} s, the hello deadline is 10 s")
    check("no hello in time" in d.log_text(), "no 'no hello in time' in the log")
    check(d.stop() == 0, "daemon did not exit cleanly")


def case_emfile():
    sock = os.path.join(TMP, "emfile.sock")
    d = Daemon(sock, nofile=64, name="emfile")
    check(d.wait_socket(), "daemon did not start")
    clients = []
    for _ in range(200):
        c = socket.socket(socket.AF_UNIX)
        c.setblocking(False)
        try:
            c.connect(sock)
        except (BlockingIOError, OSError):
            c.close()
            break
        clients.append(c)
    time.sleep(0.5)
    t0 = d.ticks()
    time.sleep(2)
    used = d.ticks() - t0
    text = d.log_text()
    accept_lines = text.count("accept:")
    log(f"emfile: {len(clients)} clients, daemon used {used} ticks in 2 s (HZ {HZ}), "
        f"{accept_lines} accept lines")
    check(used < HZ * 2 // 10, f"daemon busy at the descriptor limit: {used} ticks in 2 s")
    check(0 < accept_lines < 50, f"{accept_lines} accept log lines")
    for c in clients:
        c.close()
    t0 = time.time()
    rc, out = cmctl(sock, "stats", timeout=15)
    took = time.time() - t0
    log(f"emfile: after the clients left, cmctl stats took {took:.2f} s")
    check(rc == 0, f"cmctl after the flood: rc {rc}: {out}")
    check(took < 3, f"a new client waited {took:.2f} s")
    check(d.stop() == 0, "daemon did not exit cleanly")


def case_live_socket():
    sock = os.path.join(TMP, "live.sock")
    d1 = Daemon(sock, name="live1")
    check(d1.wait_socket(), "first daemon did not start")
    ino = os.stat(sock).st_ino
    d2 = Daemon(sock, name="live2")
    try:
        rc2 = d2.p.wait(10)
    except subprocess.TimeoutExpired:
        rc2 = None
    check(rc2 not in (None, 0), f"second daemon on a live socket: exit {rc2}")
    check(os.path.exists(sock) and os.stat(sock).st_ino == ino,
          "the second daemon replaced or removed the live socket")
    rc, out = cmctl(sock, "stats")
    check(rc == 0, f"the first daemon no longer answers: {out}")
    d2.stop()
    # the path taken over (here: removed and bound again by a third daemon)
    if os.path.exists(sock):
        os.unlink(sock)
    d3 = Daemon(sock, name="live3")
    check(d3.wait_socket(), "third daemon did not start")
    check(d1.stop() == 0, "first daemon did not exit cleanly")
    check(os.path.exists(sock), "the first daemon unlinked a socket it did not own")
    rc, out = cmctl(sock, "stats")
    check(rc == 0, f"the third daemon lost its socket: {out}")
    check(d3.stop() == 0, "third daemon did not exit cleanly")
    check(not os.path.exists(sock), "a daemon left its own socket behind")


def case_modes():
    sock = os.path.join(TMP, "run", "callmgr", "callmgr.sock")
    d = Daemon(sock, umask=0o077, name="modes")
    check(d.wait_socket(), "daemon did not start")
    dmode = stat.S_IMODE(os.stat(os.path.dirname(sock)).st_mode)
    smode = stat.S_IMODE(os.stat(sock).st_mode)
    log(f"modes: directory {dmode:04o}, socket {smode:04o}")
    check(dmode == 0o755, f"socket directory mode {dmode:04o}, want 0755")
    check(smode == 0o666, f"socket mode {smode:04o}, want 0666")
    os.chmod(TMP, 0o755)
    os.chmod(os.path.join(TMP, "run"), 0o755)
    rc, out = cmctl(sock, "stats", user=(65534, 65534, []))
    check(rc == 0, f"nobody cannot connect: {out}")
    check(d.stop() == 0, "daemon did not exit cleanly")


def case_admin_group():
    try:
        g = grp.getgrnam("adm")
    except KeyError:
        log("admin_group: no group 'adm', skipped")
        return
    conf = os.path.join(TMP, "admin.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\nadmin_group = adm\n")
    os.chmod(TMP, 0o755)
    sock = os.path.join(TMP, "admin.sock")
    d = Daemon(sock, conf=conf, name="admin")
    check(d.wait_socket(), "daemon did not start")
    # an admin request on a VC that does not exist: E_PERM unless admin
    rc, plain = cmctl(sock, "close", "999", user=(65534, 65534, []))
    rc, member = cmctl(sock, "close", "999", user=(65534, 65534, [g.gr_gid]))
    log(f"admin_group: nobody: {plain.strip()!r}; nobody + adm: {member.strip()!r}")
    refused = "need uid 0 or the admin group"
    check(refused in plain, f"a non-member was not refused: {plain}")
    check(refused not in member and "no such VC" in member,
          f"a supplementary member was refused: {member}")
    check(d.stop() == 0, "daemon did not exit cleanly")


def case_config_nul():
    conf = os.path.join(TMP, "nul.conf")
    with open(conf, "wb") as f:
        f.write(b"[timers]\nt303 = 5000\0junk\n")
    r = subprocess.run([CALLMGRD, "--check-config", "--config", conf], capture_output=True,
                       text=True, timeout=10)
    log(f"config_nul: --check-config rc {r.returncode}: {r.stderr.strip()}")
    check(r.returncode != 0 and f"{conf}:2: NUL byte in the line" in r.stderr,
          f"--check-config accepted a NUL byte: rc {r.returncode} {r.stderr}")
    with open(conf, "wb") as f:
        f.write(b"[timers]\nt303 = 5000\n")
    sock = os.path.join(TMP, "nul.sock")
    d = Daemon(sock, conf=conf, name="nul")
    check(d.wait_socket(), "daemon did not start")
    with open(conf, "wb") as f:
        f.write(b"[timers]\nt303 = 6000\0junk\n")
    d.p.send_signal(1)
    deadline = time.time() + 5
    while time.time() < deadline and "NUL byte" not in d.log_text():
        time.sleep(0.05)
    check(f"{conf}:2: NUL byte in the line" in d.log_text(), "SIGHUP accepted a NUL byte")
    rc, out = cmctl(sock, "stats")
    check(rc == 0, f"the daemon did not survive the bad reload: {out}")
    check(d.stop() == 0, "daemon did not exit cleanly")


def stats(sock):
    rc, out = cmctl(sock, "-j", "stats")
    return json.loads(out) if rc == 0 else {}


def fields(text):
    """A tool's "name value name value ..." line as a dict."""
    words = text.split()
    return dict(zip(words[::2], words[1::2]))


def run_tool(*args, timeout=120, user=None):
    def pre():
        if user:
            os.setgroups([])
            os.setgid(user)
            os.setuid(user)
    r = subprocess.run([*args], capture_output=True, text=True, timeout=timeout,
                       preexec_fn=pre)
    return r.returncode, fields(r.stdout), r.stdout + r.stderr


def case_monitors():
    sock = os.path.join(TMP, "mon.sock")
    d = Daemon(sock, nofile=4096, name="mon")
    check(d.wait_socket(), "daemon did not start")
    rc, base, out = run_tool(MONFLOOD, sock, "0", "3")
    check(rc == 0, f"monflood without monitors: {out}")

    def raise_nofile():
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    p = subprocess.Popen([MONFLOOD, sock, "1000", "5"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, preexec_fn=raise_nofile)
    rss = 0
    while p.poll() is None:
        rss = max(rss, d.rss_kb())  # with every subscriber's queue full
        time.sleep(0.25)
    text = p.stdout.read()
    mon = fields(text)
    st = stats(sock)
    log(f"monitors: alone {base.get('rate')}, with 1,000 idle monitors {mon.get('rate')} "
        f"(worst gap {mon.get('worst_ms')} ms), {mon.get('accepted')} taken, peak RSS {rss} kB, "
        f"monitors_refused {st.get('monitors_refused')}")
    check(p.returncode == 0, f"monflood with monitors: {text}")
    check(mon.get("accepted") == "64", f"{mon.get('accepted')} subscriptions taken, max 64")
    check(st.get("monitors_refused", 0) >= 936, f"monitors_refused {st.get('monitors_refused')}")
    b = float(base.get("rate", "0").rstrip("/s"))
    m = float(mon.get("rate", "0").rstrip("/s"))
    check(m >= b / 4, f"call rate with idle monitors {m}/s, alone {b}/s")
    check(rss < 96 * 1024 * RSS_SCALE, f"RSS {rss} kB with 1,000 idle monitors")
    check(d.stop() == 0, "daemon did not exit cleanly")


def case_budgets():
    sock = os.path.join(TMP, "budget.sock")
    conf = os.path.join(TMP, "budget.conf")
    with open(conf, "w") as f:
        f.write("[limits]\nmax_vcs_per_user = 20000\n")
    d = Daemon(sock, conf=conf, name="budget")
    check(d.wait_socket(), "daemon did not start")
    os.chmod(TMP, 0o755)
    rc, got, out = run_tool(HOG, sock, "budget", "8", "5000", user=65534)
    rss = d.rss_kb()
    st = stats(sock)
    log(f"budgets: {got}, RSS {rss} kB, budget_refused {st.get('budget_refused')}")
    check(rc == 0, f"hog: {out}")
    made = int(got.get("made", 0))
    # each call is two VCs of the user: its root and the leaf at its SAP
    check(0 < made <= 10000, f"{made} calls kept by one user, budget 20,000 VCs")
    check(int(got.get("limit", 0)) > 0, "no MakeCall refused CM_E_LIMIT")
    check(got.get("owner_gone") == "0", "the SAP owner was disconnected")
    check(rss < 64 * 1024 * RSS_SCALE, f"RSS {rss} kB")
    # the budget is the user's: root still calls
    rc, got, out = run_tool(HOG, sock, "budget", "1", "100")
    check(got.get("made") == "100", f"another user's calls: {out}")
    check(d.stop() == 0, "daemon did not exit cleanly")


def case_slow_owner():
    sock = os.path.join(TMP, "slowowner.sock")
    d = Daemon(sock, name="slowowner")
    check(d.wait_socket(), "daemon did not start")
    t0 = time.time()
    p = subprocess.Popen([HOG, sock, "slowowner", "4000"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    t1 = time.time()
    rc, out = cmctl(sock, "stats")
    rtt = time.time() - t1
    hog_out, _ = p.communicate(timeout=120)
    got = fields(hog_out)
    st = stats(sock)
    log(f"slow_owner: {got} in {time.time() - t0:.1f} s, cmctl stats {rtt:.3f} s meanwhile, "
        f"incoming_refused {st.get('incoming_refused')}, "
        f"sessions_dropped_slow {st.get('sessions_dropped_slow')}")
    check(p.returncode == 0, f"hog: {hog_out}")
    check(got.get("owner_gone") == "0", "the slow SAP owner was disconnected")
    check(int(got.get("refused", 0)) > 0, "no call refused while 2,048 were offered")
    check(int(got.get("made", 0)) >= 256, f"{got.get('made')} calls made")
    check(st.get("incoming_refused") == int(got.get("refused", -1)),
          "incoming_refused disagrees with the refusals seen")
    check(st.get("sessions_dropped_slow") == 0, "a session was dropped as too slow")
    check(rc == 0 and rtt < 1.0, f"cmctl stats took {rtt:.3f} s during the flood")
    check(d.stop() == 0, "daemon did not exit cleanly")


def frame(payload):
    return len(payload).to_bytes(4, "big") + payload


# ClientMsg{req_id 1, hello{min_version 1, max_version 2, client_name "nonreader"}}
HELLO = frame(b"\x08\x01\x12\x0f\x08\x01\x10\x02\x1a\x09nonreader")
# ClientMsg{req_id 1, get_status{}}: field 20, empty
GET_STATUS = frame(b"\x08\x01\xa2\x01\x00")


def nonreaders(sock, uid, n):
    """A child of uid with n sessions that ask and never read; it prints
    "stalled N" once the daemon reads none of them for a second, then
    holds them until SIGTERM."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        socks = []
        for _ in range(n):
            c = socket.socket(socket.AF_UNIX)
            c.connect(sock)
            c.sendall(HELLO)
            c.setblocking(False)
            socks.append(c)
        chunk = GET_STATUS * 2000
        progress = {c: time.time() for c in socks}
        stalled = set()
        deadline = time.time() + 60
        while len(stalled) < n and time.time() < deadline:
            for c in socks:
                if c in stalled:
                    continue
                try:
                    if c.send(chunk) > 0:
                        progress[c] = time.time()
                except BlockingIOError:
                    if time.time() - progress[c] > 1.0:
                        stalled.add(c)
            time.sleep(0.01)
        os.write(1, b"stalled %d\n" % len(stalled))
        while True:
            time.sleep(1)
    finally:
        os._exit(code)


def case_output_total():
    sock = os.path.join(TMP, "outtotal.sock")
    conf = os.path.join(TMP, "outtotal.conf")
    budget = 4 << 20
    with open(conf, "w") as f:
        f.write(f"[limits]\nmax_output_total = {budget}\n")
    d = Daemon(sock, conf=conf, name="outtotal")
    check(d.wait_socket(), "daemon did not start")
    os.chmod(TMP, 0o755)
    rss0 = d.rss_kb()
    users, per_user = [65534, 65533, 65532, 65531], 8
    kids = []
    for uid in users:
        rd, wr = os.pipe()       # the child's stdout: "stalled N"
        saved = os.dup(1)
        os.dup2(wr, 1)
        pid = nonreaders(sock, uid, per_user)
        os.dup2(saved, 1)
        os.close(saved)
        os.close(wr)
        kids.append((pid, rd))
    stalled = 0
    for pid, rd in kids:
        line = os.read(rd, 64).decode()
        stalled += int(line.split()[1]) if line.startswith("stalled") else 0
    rss = d.rss_kb()
    t0 = time.time()
    st = stats(sock)
    rtt = time.time() - t0
    n = len(users) * per_user
    queued = st.get("output_queued", -1)
    log(f"output_total: {stalled} of {n} sessions stalled, output_queued {queued}, "
        f"sessions_throttled {st.get('sessions_throttled')}, RSS {rss0} -> {rss} kB, "
        f"cmctl stats {rtt:.3f} s")
    check(stalled == n, f"{stalled} of {n} non-readers stalled")
    check(st.get("sessions_throttled") == n, f"sessions_throttled {st.get('sessions_throttled')}")
    check(budget <= queued <= budget + n * (65536 + 1024), f"output_queued {queued}")
    check(rss - rss0 < 48 * 1024 * RSS_SCALE, f"RSS grew from {rss0} to {rss} kB")
    check(rtt < 1.0, f"cmctl stats took {rtt:.3f} s")
    check(st.get("sessions_dropped_slow") == 0, "a session was dropped as too slow")
    check(st.get("sessions") == n + 1, f"{st.get('sessions')} sessions open, want {n} + cmctl")
    for pid, rd in kids:
        os.close(rd)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        # still holding its sessions: it had not failed on its own
        check(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM,
              f"non-reader child ended with status {status}")
    check(d.stop() == 0, "daemon did not exit cleanly")


CASES = {
    "slowloris": case_slowloris,
    "emfile": case_emfile,
    "live_socket": case_live_socket,
    "modes": case_modes,
    "admin_group": case_admin_group,
    "config_nul": case_config_nul,
    "monitors": case_monitors,
    "budgets": case_budgets,
    "slow_owner": case_slow_owner,
    "output_total": case_output_total,
}

if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIP: needs root")
        sys.exit(77)
    names = sys.argv[2:] or list(CASES)
    for n in names:
        log("case", n)
        CASES[n]()
    subprocess.run(["rm", "-rf", TMP])
    if failures:
        print("FAILED:", *failures, sep="\n  ")
        sys.exit(1)
    print("PASS")

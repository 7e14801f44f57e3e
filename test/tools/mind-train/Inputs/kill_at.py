#!/usr/bin/env python3
"""Runs a command and kill -9s it at a chosen moment (kill-during-save.sh).

  kill_at.py time SECONDS DIR LOG -- CMD...  kill SECONDS after the start
  kill_at.py save:PREFIX:K SECONDS DIR LOG -- CMD...
                                             kill SECONDS after a DIR/PREFIX*.tmp
                                             appears for the K-th time (the
                                             K-th save of such a file runs)
The command's output goes to LOG. Prints "exit RC, tmp N" (N: *.tmp files
this run wrote that were still there at the kill, i.e. the kill landed in a
save); exits 1 if the command failed on its own (not 0, not killed).
"""
import os
import signal
import subprocess
import sys
import time


def fresh_tmps(d, since, prefix=""):
    n = 0
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return 0
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp"):
            try:
                n += os.stat(os.path.join(d, name)).st_mtime >= since
            except FileNotFoundError:  # renamed meanwhile
                pass
    return n


def main():
    mode, delay, d, log = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    # mtimes have file-system granularity: step back a little.
    start = time.time() - 0.01
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        if mode.startswith("save:"):
            _, prefix, k = mode.split(":")
            seen, present = 0, False
            deadline = time.time() + 60
            while proc.poll() is None and time.time() < deadline:
                now = fresh_tmps(d, start, prefix) > 0
                if now and not present:
                    seen += 1
                    if seen == int(k):
                        break
                present = now
                time.sleep(0.0002)
        tmps = 0
        if proc.poll() is None:
            time.sleep(delay)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                tmps = fresh_tmps(d, start)
        rc = proc.wait()
    print("exit %d, tmp %d" % (rc if rc >= 0 else 128 - rc, tmps))
    sys.exit(0 if rc in (0, -signal.SIGKILL) else 1)


if __name__ == "__main__":
    main()

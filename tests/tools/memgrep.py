#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""memgrep: count where strings occur in a live process's memory.

    memgrep.py PID NEEDLE...

Reads every readable private or anonymous mapping of PID through
/proc/PID/mem (root) and counts each NEEDLE (a plain string). Mappings
of files (the executable, libraries) are skipped: they are not copies a
process made. One line per NEEDLE on stdout:
    memgrep: needle=N hits=H where=ADDR,...
and a first line "memgrep: pid=PID mappings=M bytes=B".
Exit status 0, 2 on errors (no such process, unreadable memory).
"""

import sys


def regions(pid):
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            perms = parts[1]
            path = parts[5] if len(parts) > 5 else ""
            if not perms.startswith("r"):
                continue
            if path and not path.startswith("["):
                if not path.startswith("/memfd:"):
                    continue
            if path in ("[vvar]", "[vsyscall]", "[vdso]"):
                continue
            yield lo, hi, path


def main():
    if len(sys.argv) < 3:
        print("usage: memgrep.py PID NEEDLE...", file=sys.stderr)
        return 2
    pid = int(sys.argv[1])
    needles = [a.encode() for a in sys.argv[2:]]
    hits = {n: [] for n in needles}
    nmap = total = 0
    try:
        mem = open("/proc/%d/mem" % pid, "rb", buffering=0)
        for lo, hi, path in list(regions(pid)):
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except OSError:
                continue
            nmap += 1
            total += len(data)
            for n in needles:
                i = data.find(n)
                while i != -1:
                    hits[n].append("%x%s" % (lo + i, "(" + path + ")"
                                             if path else ""))
                    i = data.find(n, i + 1)
    except OSError as e:
        print("memgrep: %s" % e, file=sys.stderr)
        return 2
    print("memgrep: pid=%d mappings=%d bytes=%d" % (pid, nmap, total))
    for n in needles:
        print("memgrep: needle=%s hits=%d where=%s" % (
            n.decode(), len(hits[n]), ",".join(hits[n][:8]) or "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

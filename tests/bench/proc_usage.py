#!/usr/bin/env python3
"""What a server and the machine have used so far, from /proc, as one JSON line.

proc_usage.py ROOT_PID
  cpu_s:   user+system CPU of ROOT_PID and every live descendant, plus what the root has
           collected from children that ended (cutime+cstime): all of a server's processes,
           also the short-lived ones;
  pss_kib: the sum of their proportional set sizes (smaps_rollup), so memory shared by
           several processes is counted once in all;
  procs:   how many processes that is;
  idle_ticks, total_ticks: the machine's /proc/stat counters, for how busy it was between
           two samples.
Two samples around a run give the run's share (tests/bench/servers.sh).
"""
import json
import os
import sys


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open(f"/proc/{d}/stat", "rb").read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        kids.setdefault(int(fields[1]), []).append(int(d))
    return kids


def main():
    root = int(sys.argv[1])
    kids = children_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(kids.get(pid, ()))
    hz = os.sysconf("SC_CLK_TCK")
    ticks = pss = procs = 0
    for pid in tree:
        try:
            stat = open(f"/proc/{pid}/stat", "rb").read()
            rollup = open(f"/proc/{pid}/smaps_rollup").read()
        except OSError:
            continue
        f = stat[stat.rfind(b")") + 2:].split()
        ticks += int(f[11]) + int(f[12]) + (int(f[13]) + int(f[14]) if pid == root else 0)
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1])
        procs += 1
    cpu = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    print(json.dumps({"cpu_s": ticks / hz, "pss_kib": pss, "procs": procs,
                      "idle_ticks": cpu[3] + cpu[4], "total_ticks": sum(cpu)}))


if __name__ == "__main__":
    main()

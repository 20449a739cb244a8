#!/usr/bin/env python3
"""Which way of making a batch of new message files durable is fastest on this file system.

Each way writes COUNT files of SIZE octets into tmp/, makes them durable in batches of
BATCH, renames each batch into cur/ and fsyncs cur/ once per batch (what the directory
stores do for group commit); the ways differ only in how the data reach the disk:

  fsync-each      fsync(2) of every file, one after the other
  fsync-4threads  the same on four threads (izypop3 before issue 15)
  syncfs          nothing per file; one syncfs(2) of the file system per batch
  journal         every file's octets also appended to one journal file, fdatasync(2)
                  of the journal per batch (the files themselves are made durable later,
                  by one syncfs at the end, before the journal may go)

Rounds alternate between the ways so that a busy neighbour hurts them all alike; writes
the section "Stores: making a batch of message files durable" of docs/benchmarks.md (the
median per way and its syncs per batch), or prints it with --print.
usage: tests/bench/durable_batch.py [--print] [DIR [COUNT [SIZE [BATCH [ROUNDS]]]]]
       DIR defaults to build/durable_batch (it must be on the store's file system)
"""
import concurrent.futures
import ctypes
import os
import pathlib
import platform
import shutil
import subprocess
import statistics
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)


def syncfs(fd):
    if libc.syncfs(fd) != 0:
        raise OSError(ctypes.get_errno(), "syncfs")


def write_file(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, data)
    return fd


def publish(root, names):
    for n in names:
        os.rename(f"{root}/tmp/{n}", f"{root}/cur/{n}")
    fd = os.open(f"{root}/cur", os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def run(way, root, count, size, batch, pool):
    data = (b"x" * 76 + b"\r\n") * (size // 78)
    syncs = 0
    journal = os.open(f"{root}/journal", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    start = time.monotonic()
    for first in range(0, count, batch):
        names = [f"m{i}" for i in range(first, min(count, first + batch))]
        fds = [write_file(f"{root}/tmp/{n}", data) for n in names]
        if way == "fsync-each":
            for fd in fds:
                os.fsync(fd)
            syncs += len(fds)
        elif way == "fsync-4threads":
            list(pool.map(os.fsync, fds))
            syncs += len(fds)
        elif way == "syncfs":
            syncfs(fds[0])
            syncs += 1
        elif way == "journal":
            for fd in fds:
                os.write(journal, data)
            os.fdatasync(journal)
            syncs += 1
        for fd in fds:
            os.close(fd)
        publish(root, names)
        syncs += 1
    if way == "journal":
        syncfs(journal)
        syncs += 1
    secs = time.monotonic() - start
    os.close(journal)
    return secs, syncs


HEADING = "## Stores: making a batch of message files durable"


def file_system_of(path):
    out = subprocess.run(["df", "--output=fstype", path], capture_output=True, text=True)
    return out.stdout.split()[-1] if out.returncode == 0 else "unknown"


def main():
    args = sys.argv[1:]
    to_stdout = bool(args) and args[0] == "--print"
    if to_stdout:
        args = args[1:]
    base = args[0] if args else "build/durable_batch"
    count = int(args[1]) if len(args) > 1 else 2000
    size = int(args[2]) if len(args) > 2 else 4096
    batch = int(args[3]) if len(args) > 3 else 256
    rounds = int(args[4]) if len(args) > 4 else 3
    os.makedirs(base, exist_ok=True)
    ways = ["fsync-each", "fsync-4threads", "syncfs", "journal"]
    times = {w: [] for w in ways}
    syncs = {}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for _ in range(rounds):
            for way in ways:
                root = f"{base}/{way}"
                shutil.rmtree(root, ignore_errors=True)
                os.makedirs(f"{root}/tmp")
                os.makedirs(f"{root}/cur")
                os.sync()  # every way starts without the previous one's writeback
                secs, syncs[way] = run(way, root, count, size, batch, pool)
                times[way].append(secs)
                shutil.rmtree(root)
    load = os.getloadavg()[0]
    lines = [HEADING, "",
             f"Written by `tests/bench/durable_batch.py` on {time.strftime('%Y-%m-%d')} "
             f"({os.cpu_count()} cores, {file_system_of(base)}, Linux {platform.release()}, "
             f"load average {load:.1f} at the end: other builds shared the disk). {count} new "
             f"files of {size} octets, made durable in batches of {batch}, each batch then "
             f"renamed into place and its directory fsynced; median of {rounds} rounds, the "
             "ways taking turns. See docs/stores.md for what the ways are and why izypop3 "
             "uses syncfs.", "",
             "| way | median s (min–max) | files/s | syncs per batch |",
             "|---|---|---|---|"]
    batches = (count + batch - 1) // batch
    for way in ways:
        t = times[way]
        med = statistics.median(t)
        lines.append(f"| {way} | {med:.2f} ({min(t):.2f}–{max(t):.2f}) | {count / med:,.0f} | "
                     f"{syncs[way] / batches:.1f} |")
    lines += ["", "Command: `tests/bench/durable_batch.py`"]
    text = "\n".join(lines) + "\n"
    if to_stdout:
        print(text, end="")
        return
    section = pathlib.Path(base) / "section.md"
    section.write_text(text)
    here = pathlib.Path(__file__).resolve().parent
    subprocess.run([sys.executable, str(here / "replace_section.py"),
                    str(here.parent.parent / "docs" / "benchmarks.md"), HEADING, str(section)],
                   check=True)
    print(text, end="")


if __name__ == "__main__":
    main()

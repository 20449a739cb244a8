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

Rounds alternate between the ways so that a busy neighbour hurts them all alike; prints a
Markdown table of the median per way and its syncs per batch.
usage: durable_batch.py DIR [COUNT] [SIZE] [BATCH] [ROUNDS]
"""
import concurrent.futures
import ctypes
import os
import shutil
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


def main():
    base = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
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
                os.sync()  # start every way from clean page cache writeback
                secs, syncs[way] = run(way, root, count, size, batch, pool)
                times[way].append(secs)
                shutil.rmtree(root)
    print(f"| way ({count} files of {size} octets, batches of {batch}) | median s "
          f"(min–max of {rounds}) | files/s | syncs per batch |")
    print("|---|---|---|---|")
    batches = (count + batch - 1) // batch
    for way in ways:
        t = times[way]
        med = statistics.median(t)
        print(f"| {way} | {med:.2f} ({min(t):.2f}–{max(t):.2f}) | {count / med:,.0f} | "
              f"{syncs[way] / batches:.1f} |")


if __name__ == "__main__":
    main()

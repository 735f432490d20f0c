#!/usr/bin/env python3
"""Cache-hit throughput client for bench/run.sh: N keep-alive connections GET one URL over and over.

Each connection is a thread with a blocking socket (recv releases the GIL). After a warm-up, the
bytes received by all connections during a fixed window are counted, together with the CPU time
the server's processes, this client, softirq (loopback TCP), kernel threads and everything else
on the machine used in that window: "other" is what other processes took from the cores, which
spoils the run.

--mode discard (default) receives with MSG_TRUNC: Linux drops the data in the kernel instead of
copying it into the process, so the client costs little and the number measures the server and
the loopback path. --mode copy copies every byte into a 1 MiB buffer, like curl -o /dev/null.

Prints one line of key=value pairs.
"""

import argparse
import os
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

BUFFER = 1 << 20
TICKS = os.sysconf("SC_CLK_TCK")


def machine_seconds():
    """CPU seconds all cores spent busy so far, and how much of it was softirq (loopback TCP)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _, _, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS, softirq / TICKS


def kernel_seconds():
    """CPU seconds of the kernel's threads (children of kthreadd): ksoftirqd, kworkers, kswapd."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == "2":
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def cpu_seconds(pids):
    """User plus system CPU time of these processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICKS


class Connection(threading.Thread):
    """One client connection fetching the URL until told to stop."""

    def __init__(self, host, port, path, flags, stop, failures):
        super().__init__(daemon=True)
        self.address = (host, port)
        self.request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: regmirror-bench\r\n\r\n".encode()
        self.flags = flags
        self.stop = stop
        self.failures = failures
        self.received = 0
        self.responses = 0

    def run(self):
        buffer = bytearray(BUFFER)
        sock = None
        try:
            while not self.stop.is_set():
                if sock is None:
                    sock = socket.create_connection(self.address)
                sock.sendall(self.request)
                length, keep_alive, already = self.read_head(sock)
                self.received += already
                left = length - already
                while left > 0:
                    n = sock.recv_into(buffer, min(left, BUFFER), self.flags)
                    if n == 0:
                        raise IOError(f"connection closed with {left} bytes of the body missing")
                    left -= n
                    self.received += n
                    if self.stop.is_set():
                        return
                self.responses += 1
                if not keep_alive:
                    sock.close()
                    sock = None
        except Exception as e:  # reported by the main thread
            self.failures.append(repr(e))
        finally:
            if sock is not None:
                sock.close()

    @staticmethod
    def read_head(sock):
        """Reads a 200 response's headers: its Content-Length, keep-alive, and body bytes already read."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                raise IOError("connection closed before the response headers")
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split(" ", 2)[1]
        if status != "200":
            raise IOError(f"status {status}: {lines[0]}")
        headers = dict((k.strip().lower(), v.strip()) for k, v in (l.split(":", 1) for l in lines[1:]))
        if "content-length" not in headers:
            raise IOError("response without Content-Length")
        keep_alive = headers.get("connection", "").lower() != "close"
        return int(headers["content-length"]), keep_alive, len(rest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--mode", choices=["discard", "copy"], default="discard")
    parser.add_argument("--pids", default="", help="comma-separated server process ids to charge CPU time to")
    args = parser.parse_args()

    url = urlsplit(args.url)
    if url.hostname != "127.0.0.1":
        sys.exit("hitload: only 127.0.0.1 is benchmarked")
    path = url.path + (f"?{url.query}" if url.query else "")
    flags = socket.MSG_TRUNC if args.mode == "discard" else 0
    pids = [int(p) for p in args.pids.split(",") if p]

    stop = threading.Event()
    failures = []
    connections = [Connection(url.hostname, url.port, path, flags, stop, failures) for _ in range(args.connections)]
    for c in connections:
        c.start()
    time.sleep(args.warmup)
    bytes0, server0, client0, machine0, kernel0, t0 = (sum(c.received for c in connections), cpu_seconds(pids),
                                                      os.times(), machine_seconds(), kernel_seconds(), time.monotonic())
    time.sleep(args.seconds)
    bytes1, server1, client1, machine1, kernel1, t1 = (sum(c.received for c in connections), cpu_seconds(pids),
                                                      os.times(), machine_seconds(), kernel_seconds(), time.monotonic())
    stop.set()
    for c in connections:
        c.join(5)
    if failures:
        sys.exit(f"hitload: {len(failures)} connection(s) failed, first: {failures[0]}")

    elapsed = t1 - t0
    received = bytes1 - bytes0
    server_cpu = server1 - server0
    client_cpu = (client1.user + client1.system) - (client0.user + client0.system)
    busy, softirq = machine1[0] - machine0[0], machine1[1] - machine0[1]
    kernel = kernel1 - kernel0
    # Ticks spent in softirq are charged both to the softirq total and to the interrupted process
    # (on loopback, mostly the server or the client), so softirq is not subtracted again.
    other = max(0.0, busy - kernel - server_cpu - client_cpu)

    def pct(seconds):
        return f"{100 * seconds / elapsed:.0f}"

    print(f"bytes={received} seconds={elapsed:.3f} gibps={received / elapsed / 2**30:.3f}"
          f" server_cpu_pct={pct(server_cpu)} client_cpu_pct={pct(client_cpu)}"
          f" softirq_cpu_pct={pct(softirq)} kernel_cpu_pct={pct(kernel)} other_cpu_pct={pct(other)}"
          f" responses={sum(c.responses for c in connections)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""TLS load for bench/tls.sh: cache-hit throughput through h2load, or new TLS handshakes per second.

throughput: runs h2load (HTTP/1.1 with --h1, else h2) with N connections fetching one URL over and
over, and counts the bytes h2load read from its sockets during a fixed window after a warm-up
(from /proc/<pid>/io: h2load's own byte counts do not include responses still in flight when its
duration ends, and a 1 GiB response lasts longer than a window). These are TLS bytes: the body
plus TLS record framing (22 bytes per full 16 KiB record) and, for h2, frame headers (9 bytes per
16 KiB frame), 0.2% together. The client is C with OpenSSL, like the servers: a Python client
decrypting in its own thread would measure itself.

handshakes: N threads each open a new TLS connection (a full handshake, the certificate verified
against the CA, ALPN http/1.1, no session resumed), GET one small path (/v2/) with "Connection:
close" and read to the server's close, over and over; counts the connections completed in the
window. Reading to the end matters: TLS 1.3 servers send session tickets after the handshake, and
a client that closes with them unread resets the connection, which servers log as an error.

Both print one line of key=value pairs with the CPU time the server's processes, the client,
softirq, kernel threads and other processes used in the window, as bench/hitload.py does.
"""

import argparse
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time

from hitload import cpu_seconds, kernel_seconds, machine_seconds


class Window:
    """CPU time of the server, the client, the kernel and the whole machine between two samples."""

    def __init__(self, server_pids, client_seconds):
        self.server_pids = server_pids
        self.client_seconds = client_seconds

    def sample(self):
        return (cpu_seconds(self.server_pids), self.client_seconds(), machine_seconds(), kernel_seconds(),
                time.monotonic())

    @staticmethod
    def cpu(first, last):
        """key=value pairs of CPU shares, and the window's length in seconds."""
        elapsed = last[4] - first[4]
        server, client = last[0] - first[0], last[1] - first[1]
        busy, softirq = last[2][0] - first[2][0], last[2][1] - first[2][1]
        kernel = last[3] - first[3]
        other = max(0.0, busy - kernel - server - client)  # softirq is inside the processes' shares

        def pct(seconds):
            return f"{100 * seconds / elapsed:.0f}"

        return (f"server_cpu_pct={pct(server)} client_cpu_pct={pct(client)} softirq_cpu_pct={pct(softirq)}"
                f" kernel_cpu_pct={pct(kernel)} other_cpu_pct={pct(other)}"), elapsed


def throughput(args, pids):
    protocol = "http/1.1" if args.protocol == "h1" else "h2"
    duration = int(args.warmup + args.seconds + 2)  # h2load must still be loading when the window closes
    command = ["h2load", "-c", str(args.connections), "-m", str(args.streams), "-t", str(args.threads),
               "-D", str(duration), *(["--h1"] if args.protocol == "h1" else []), args.url]
    h2load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def read_bytes():
        with open(f"/proc/{h2load.pid}/io") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("rchar:"))

    window = Window(pids, lambda: cpu_seconds([h2load.pid]))
    time.sleep(args.warmup)
    bytes0, first = read_bytes(), window.sample()
    time.sleep(args.seconds)
    bytes1, last = read_bytes(), window.sample()
    output = h2load.communicate()[0]
    if h2load.returncode != 0:
        sys.exit(f"tlsload: h2load exited with {h2load.returncode}: {output.strip()[-500:]}")

    def field(pattern):
        found = re.search(pattern, output, re.MULTILINE)
        if not found:
            sys.exit(f"tlsload: no '{pattern}' in h2load's output: {output.strip()[-500:]}")
        return found.groups()

    negotiated = field(r"^Application protocol: (\S+)")[0]
    if negotiated != protocol:
        sys.exit(f"tlsload: asked for {protocol}, h2load got {negotiated}")
    ok, redirects, client_errors, server_errors = (int(n) for n in field(
        r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")[:4])
    failed, errored, timeouts = (int(n) for n in field(r"(\d+) failed, (\d+) errored, (\d+) timeout"))
    if redirects + client_errors + server_errors + failed + errored + timeouts or ok == 0:
        sys.exit(f"tlsload: h2load saw errors: {output.strip()[-800:]}")
    version, cipher = field(r"^TLS Protocol: (\S+)")[0], field(r"^Cipher: (\S+)")[0]
    done = field(r"^requests: \d+ total, \d+ started, (\d+) done")[0]
    cpu, elapsed = Window.cpu(first, last)
    received = bytes1 - bytes0
    print(f"bytes={received} seconds={elapsed:.3f} gibps={received / elapsed / 2**30:.3f} {cpu}"
          f" responses={done} alpn={negotiated} tls={version} cipher={cipher}")


def handshakes(args, pids):
    context = ssl.create_default_context(cafile=args.cafile)
    context.set_alpn_protocols(["http/1.1"])
    host, port = args.address.rsplit(":", 1)
    request = f"GET {args.path} HTTP/1.1\r\nHost: {args.server_name}\r\nUser-Agent: regmirror-bench\r\nConnection: close\r\n\r\n"
    stop = threading.Event()
    failures, counts, details = [], [0] * args.connections, {}

    def run(i):
        try:
            while not stop.is_set():
                with socket.create_connection((host, int(port)), timeout=10) as plain:
                    # As curl and Go do. Without it the request waits for the ACK of the client's
                    # Finished, which a server that sent its session tickets early (BoringSSL)
                    # delays by 40 ms.
                    plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    with context.wrap_socket(plain, server_hostname=args.server_name) as tls:
                        if not details:
                            details.update(protocol=tls.selected_alpn_protocol(), tls=tls.version(),
                                           cipher=tls.cipher()[0])
                        tls.sendall(request.encode())
                        response = b""
                        while chunk := tls.recv(65536):  # to the server's close: nothing is left unread
                            response += chunk
                if not response.startswith(b"HTTP/1.1 200 "):
                    raise IOError(f"answer to GET {args.path}: {response[:60]!r}")
                counts[i] += 1
        except Exception as e:  # reported by the main thread
            failures.append(repr(e))

    def client_seconds():
        t = os.times()
        return t.user + t.system

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(args.connections)]
    for t in threads:
        t.start()
    window = Window(pids, client_seconds)
    time.sleep(args.warmup)
    count0, first = sum(counts), window.sample()
    time.sleep(args.seconds)
    count1, last = sum(counts), window.sample()
    stop.set()
    for t in threads:
        t.join(5)
    if failures:
        sys.exit(f"tlsload: {len(failures)} connection(s) failed, first: {failures[0]}")
    cpu, elapsed = Window.cpu(first, last)
    done = count1 - count0
    print(f"handshakes={done} seconds={elapsed:.3f} per_second={done / elapsed:.0f} {cpu}"
          f" alpn={details['protocol']} tls={details['tls']} cipher={details['cipher']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="test", required=True)
    load = sub.add_parser("throughput")
    load.add_argument("url")
    load.add_argument("--protocol", choices=["h1", "h2"], required=True)
    load.add_argument("--streams", type=int, default=1, help="h2load -m: streams per h2 connection")
    load.add_argument("--threads", type=int, default=1, help="h2load -t")
    shake = sub.add_parser("handshakes")
    shake.add_argument("address", help="127.0.0.1:PORT")
    shake.add_argument("--cafile", required=True)
    shake.add_argument("--path", default="/v2/", help="what each connection GETs before it ends")
    shake.add_argument("--server-name", default="localhost", help="SNI and the name the certificate is checked for")
    for p in (load, shake):
        p.add_argument("--connections", type=int, default=1)
        p.add_argument("--seconds", type=float, default=5)
        p.add_argument("--warmup", type=float, default=1)
        p.add_argument("--pids", default="", help="comma-separated server process ids to charge CPU time to")
    args = parser.parse_args()
    if not (args.url if args.test == "throughput" else "//" + args.address).split("//", 1)[1].startswith("127.0.0.1:"):
        sys.exit("tlsload: only 127.0.0.1 is benchmarked")
    pids = [int(p) for p in args.pids.split(",") if p]
    if args.test == "throughput":
        throughput(args, pids)
    else:
        handshakes(args, pids)


if __name__ == "__main__":
    main()

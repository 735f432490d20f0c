#!/usr/bin/env python3
"""Turns the raw measurements of bench/tls.sh into the printed table (raw lines as for report.py).

Usage: tls_report.py RAW ENVIRONMENT THROUGHPUT_CLIENT_DESCRIPTION HANDSHAKE_CLIENT_DESCRIPTION
"""

import statistics
import sys

from report import of, parse, ratio, verdict

HIT_VS_NGINX = 0.85  # issue target: cache hits over TLS at least 0.85x nginx
SERVERS = ("openssl", "jdk", "nginx")
NAMES = {"openssl": "rm openssl", "jdk": "rm jdk", "nginx": "nginx"}


class TlsReport:
    """The printed report, section by section, from the parsed raw rows."""

    def __init__(self, rows):
        self.rows = rows
        self.data = of(rows, "data")[0]
        load = of(rows, "load")[0]
        self.cores = int(load["cores"])
        self.other_max = int(load["other_max"])
        self.load = load["at_start_1min"]
        self.out = []

    def header(self, environment):
        p = self.out.append
        p("regmirror TLS benchmark")
        p("machine: " + environment.replace("; ", "\n         "))
        p(f"load average when the run started: {self.load}")
        p(f"blob {self.data['blob']} ({self.data['blob_mib']} MiB); certificate {self.data['certificate']}"
          " (regmirror tls init), the same for all three servers")
        providers = ", ".join(f"{r['server']} {r['tcnative_loaded']}" for r in of(self.rows, "provider"))
        p(f"netty-tcnative (BoringSSL) loaded in regmirror: {providers}")
        p("")

    def medians(self, kind, key, **match):
        """Median of `key` and of the server's CPU per server for the rows matching, and every run's value."""
        cells = {}
        for server in SERVERS:
            rs = of(self.rows, kind, server=server, **match)
            cells[server] = (statistics.median(float(r[key]) for r in rs),
                             statistics.median(int(r["server_cpu_pct"]) for r in rs),
                             [float(r[key]) for r in rs])
        return cells

    def throughput(self, protocol, client, number):
        p = self.out.append
        hits = of(self.rows, "hit", protocol=protocol)
        runs = max(int(h["run"]) for h in hits)
        name = "HTTP/1.1" if protocol == "h1" else "HTTP/2"
        p(f"{number}. Cache-hit throughput over TLS, {name}: GiB/s, median of {runs} run(s) (server CPU, 100% = one core)")
        p(f"   client: {client}")
        p(f"   {'conns':>5} {'streams':>7}  {'rm openssl':>14}  {'rm jdk':>14}  {'nginx':>14}"
          f"  {'openssl/nginx':>13} {'>=0.85':6}  {'jdk/nginx':>9} {'>=0.85':6}  {'openssl/jdk':>11}")
        every = []
        for shape in dict.fromkeys((h["connections"], h["streams"]) for h in hits):
            cells = self.medians("hit", "gibps", protocol=protocol, connections=shape[0], streams=shape[1])
            vo = ratio(cells["openssl"][0], cells["nginx"][0])
            vj = ratio(cells["jdk"][0], cells["nginx"][0])
            p(f"   {shape[0]:>5} {shape[1]:>7}  " + "  ".join(f"{cells[s][0]:6.2f} ({cells[s][1]:>3.0f}%)" for s in SERVERS)
              + f"  {vo:>13.2f} {verdict(vo >= HIT_VS_NGINX):6}  {vj:>9.2f} {verdict(vj >= HIT_VS_NGINX):6}"
              f"  {ratio(cells['openssl'][0], cells['jdk'][0]):>11.2f}")
            every.append((shape, cells))
        if runs > 1:
            p("   every run, GiB/s:")
            for shape, cells in every:
                p(f"   {shape[0]:>5} {shape[1]:>7}  "
                  + "  ".join(f"{s} " + " ".join(f"{v:.2f}" for v in cells[s][2]) for s in SERVERS))
        self.besides(hits)
        ciphers = sorted({f"{h['tls']} {h['cipher']}" for h in hits})
        p(f"   negotiated: {', '.join(ciphers)}")
        p("")

    def besides(self, rows):
        """CPU of everything but the server during these runs, and the repeats."""
        p = self.out.append
        median = {k: statistics.median(int(r[k]) for r in rows)
                  for k in ("client_cpu_pct", "kernel_cpu_pct", "other_cpu_pct", "softirq_cpu_pct")}
        p(f"   CPU besides the server (medians, of {self.cores * 100}%): client {median['client_cpu_pct']:.0f}%,"
          f" kernel threads {median['kernel_cpu_pct']:.0f}%, other processes {median['other_cpu_pct']:.0f}%;"
          f" softirq {median['softirq_cpu_pct']:.0f}%")
        if median["other_cpu_pct"] > self.other_max:
            p(f"   WARNING: other processes used {median['other_cpu_pct']:.0f}% CPU during these runs; the numbers are disturbed")

    def handshakes(self, client, number):
        p = self.out.append
        rows = of(self.rows, "handshake")
        runs = max(int(r["run"]) for r in rows)
        p(f"{number}. New TLS connections per second: a full handshake, GET /v2/, the server closes; median of {runs} run(s)")
        p("   (server CPU; server CPU time per connection)")
        p(f"   client: {client}")
        p(f"   {'conns':>5}  {'rm openssl':>22}  {'rm jdk':>22}  {'nginx':>22}  {'openssl/nginx':>13}"
          f"  {'jdk/nginx':>9}  {'openssl/jdk':>11}")
        every = []
        for conns in dict.fromkeys(r["connections"] for r in rows):
            cells = self.medians("handshake", "per_second", connections=conns)
            text = []
            for s in SERVERS:
                rate, cpu, _ = cells[s]
                micros = 10_000 * cpu / rate if rate else float("nan")  # cpu% / 100 * 1e6 / rate
                text.append(f"{rate:6.0f}/s ({cpu:>3.0f}%; {micros:4.0f} us)")
            p(f"   {conns:>5}  " + "  ".join(f"{t:>22}" for t in text)
              + f"  {ratio(cells['openssl'][0], cells['nginx'][0]):>13.2f}  {ratio(cells['jdk'][0], cells['nginx'][0]):>9.2f}"
              f"  {ratio(cells['openssl'][0], cells['jdk'][0]):>11.2f}")
            every.append((conns, cells))
        if runs > 1:
            p("   every run, handshakes/s:")
            for conns, cells in every:
                p(f"   {conns:>5}  " + "  ".join(f"{s} " + " ".join(f"{v:.0f}" for v in cells[s][2]) for s in SERVERS))
        self.besides(rows)
        p(f"   negotiated: {', '.join(sorted({r['tls'] + ' ' + r['cipher'] + ' ' + r['alpn'] for r in rows}))}")
        p("")

    def checks(self):
        p = self.out.append
        disturbed = of(self.rows, "disturbed")
        if disturbed:
            p(f"{len(disturbed)} run(s) were repeated: other processes took more than {self.other_max}% CPU"
              " or a file left the page cache")
        upstream = of(self.rows, "hit-upstream")[0]["upstream_requests"]
        fill = of(self.rows, "fill")[0]["upstream_blob_gets"]
        p(f"upstream: {fill} GET(s) of the blob to fill both caches (2 expected), {upstream} request(s) during the runs")
        peak = of(self.rows, "memory")[0]
        p(f"peak RSS (VmHWM): regmirror openssl {peak['openssl_hwm_mib']} MiB, jdk {peak['jdk_hwm_mib']} MiB"
          f" (JVM, -Xmx{peak['heap_max']}), nginx {peak['nginx_hwm_mib_sum']} MiB (master + workers)")
        checks = of(self.rows, "verify")
        p("Bytes served match the digest: " + ", ".join(f"{c['server']} {c['protocol']} {c['blob_sha256_ok']}" for c in checks))
        if any(c["blob_sha256_ok"] != "yes" for c in checks):
            p("WARNING: a server sent bytes that do not match the blob's digest; its numbers mean nothing")


def main():
    raw, environment, client, handshake_client = sys.argv[1:5]
    report = TlsReport(parse(raw))
    report.header(environment)
    report.throughput("h1", client + ", --h1", 1)
    report.throughput("h2", client, 2)
    report.handshakes(handshake_client, 3)
    report.checks()
    print("\n".join(report.out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Turns the raw measurements of bench/run.sh (lines of 'kind key=value ...') into the printed table.

Usage: report.py RAW ENVIRONMENT HIT_CLIENT_DESCRIPTION WRK_DESCRIPTION
"""

import statistics
import sys

HIT_VS_PROXY = 1.5    # issue target: cache hits at least 1.5x the proxy's throughput
HIT_VS_NGINX = 0.85   # issue target: cache hits within 15% of nginx


def parse(path):
    """Lines of the raw file as (kind, {key: value}); the line naming the test data has no kind word."""
    rows = []
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            kind = words[0] if "=" not in words[0] else "data"
            values = dict(w.split("=", 1) for w in words if "=" in w)
            rows.append((kind, values))
    return rows


def of(rows, row_kind, **match):
    """The values of the rows of this kind whose keys have the given values."""
    return [v for k, v in rows if k == row_kind and all(v.get(key) == want for key, want in match.items())]


def verdict(ok):
    return "PASS" if ok else "FAIL"


def ratio(a, b):
    return a / b if b else float("nan")


class Report:
    """The printed report, section by section, from the parsed raw rows."""

    def __init__(self, rows):
        self.rows = rows
        self.data = of(rows, "data")[0]
        load = of(rows, "load")[0]
        self.cores = int(load["cores"])
        self.other_max = int(load["other_max"])
        self.blob_mib = int(self.data["blob_mib"])
        self.out = []

    def header(self, environment, load):
        """The machine, the load, and the test data."""
        p = self.out.append
        p("regmirror benchmark")
        p("machine: " + environment.replace("; ", "\n         "))
        p(f"load average when the run started: {load['at_start_1min']}")
        p(f"CPU of kernel threads / of other processes, of {self.cores * 100}%:")
        phases = of(self.rows, "phase")
        p("  " + ", ".join(f"{ph['name']} {ph['kernel_cpu_pct']}/{max(0, int(ph['other_cpu_pct']))}%" for ph in phases))
        p(f"blob {self.data['blob']} ({self.blob_mib} MiB)")
        p("")

    def cache_hits(self, hit_client):
        """Test 2: throughput of the cached blob, per server and concurrency, and the targets."""
        p = self.out.append
        hits = of(self.rows, "hit")
        runs = max(int(h["run"]) for h in hits)
        p(f"1. Cache-hit throughput, {self.blob_mib} MiB blob: GiB/s, median of {runs} run(s) (server CPU, 100% = one core)")
        p(f"   client: {hit_client}")
        p(f"   {'clients':>7}  {'regmirror':>14}  {'proxy':>14}  {'nginx':>14}  {'rm/proxy':>8} {'>=1.5x':6}  {'rm/nginx':>8} {'>=0.85':6}")
        ranges = []
        for conns in dict.fromkeys(h["connections"] for h in hits):
            medians, cells = [], []
            for server in ("regmirror", "proxy", "nginx"):
                rs = of(self.rows, "hit", server=server, connections=conns)
                g = statistics.median(float(r["gibps"]) for r in rs)
                cpu = statistics.median(int(r["server_cpu_pct"]) for r in rs)
                medians.append(g)
                cells.append(f"{g:6.2f} ({cpu:>3.0f}%)")
                ranges.append((conns, server, " ".join(f"{float(r['gibps']):.2f}" for r in rs)))
            vp, vn = ratio(medians[0], medians[1]), ratio(medians[0], medians[2])
            p(f"   {conns:>7}  {cells[0]:>14}  {cells[1]:>14}  {cells[2]:>14}  {vp:>8.2f} {verdict(vp >= HIT_VS_PROXY):6}"
              f"  {vn:>8.2f} {verdict(vn >= HIT_VS_NGINX):6}")
        if runs > 1:
            p("   every run, GiB/s:")
            for conns in dict.fromkeys(c for c, _, _ in ranges):
                p(f"   {conns:>7}  " + "  ".join(f"{server} {values}" for c, server, values in ranges if c == conns))
        other = statistics.median(int(h["other_cpu_pct"]) for h in hits)
        client = statistics.median(int(h["client_cpu_pct"]) for h in hits)
        softirq = statistics.median(int(h["softirq_cpu_pct"]) for h in hits)
        kernel = statistics.median(int(h["kernel_cpu_pct"]) for h in hits)
        p(f"   CPU besides the server (medians, of {self.cores * 100}%): client {client:.0f}%, kernel threads {kernel:.0f}%,"
          f" other processes {other:.0f}%;")
        p(f"   softirq (loopback TCP, inside the server's and the client's share) {softirq:.0f}%")
        disturbed = of(self.rows, "disturbed", phase="hit")
        if disturbed:
            p(f"   {len(disturbed)} run(s) were repeated because other processes took more than {self.other_max}% CPU")
        if other > self.other_max:
            p(f"   WARNING: other processes used {other:.0f}% CPU during these runs; the numbers are disturbed")
        upstream = of(self.rows, "hit-upstream")[0]["upstream_requests"]
        if upstream != "0":
            p(f"   note: the upstream saw {upstream} requests during the cache-hit runs (listed in the raw numbers)")
        p("")

    def manifests(self, wrk):
        """Test 3: manifest GETs per second."""
        p = self.out.append
        p(f"2. Manifest GET by digest, cached: {wrk}")
        p(f"   {'server':<10} {'req/s':>10} {'p50':>9} {'p99':>9} {'CPU':>5} {'wrk':>5} {'other':>6}  {'upstream req':>12}  errors")
        rates = {}
        for row in of(self.rows, "manifest"):
            rates[row["server"]] = float(row["rps"])
            p(f"   {row['server']:<10} {float(row['rps']):>10.0f} {row['p50']:>9} {row['p99']:>9}"
              f" {row['server_cpu_pct'] + '%':>5} {row['wrk_cpu_pct'] + '%':>5} {row['other_cpu_pct'] + '%':>6}"
              f"  {row['upstream_requests']:>12}  {row['errors']}")
        disturbed = of(self.rows, "disturbed", phase="manifest")
        if disturbed:
            p(f"   {len(disturbed)} run(s) were repeated because other processes took more than {self.other_max}% CPU")
        p(f"   regmirror/proxy: {ratio(rates['regmirror'], rates['proxy']):.2f}x"
          f"   (nginx serves a static file: a reference only)")
        p(f"   CPU: the server's, wrk's and other processes', of {self.cores * 100}%")
        p("")

    def cold(self):
        """Test 1: upstream bytes for the cold blob pulled by many clients at once, and the target."""
        p = self.out.append
        p(f"3. Cold {self.blob_mib} MiB blob, clients at once: bytes the upstream sent")
        p(f"   {'server':<10} {'complete':>9} {'seconds':>8} {'upstream GETs':>13} {'upstream bytes':>15} {'x blob':>7}  target")
        for row in of(self.rows, "cold"):
            times = int(row["upstream_bytes"]) / int(row["blob_bytes"])
            target = verdict(row["upstream_bytes"] == row["blob_bytes"] and row["upstream_gets"] == "1"
                             and row["complete"] == row["clients"]) + " (exactly 1x)" \
                if row["server"] == "regmirror" else ""
            p(f"   {row['server']:<10} {row['complete'] + '/' + row['clients']:>9} {row['seconds']:>8} {row['upstream_gets']:>13}"
              f" {row['upstream_bytes']:>15} {times:>7.2f}  {target}")
        p("   upstream GETs of this blob in the whole run, by User-Agent:")
        for t in of(self.rows, "upstream-total"):
            p(f"     {t['agent']}: {t['gets']} GETs, {t['bytes']} bytes")
        p("")

    def first_byte(self):
        """Test 4: time to first byte and total time of misses, and of the same blobs cached."""
        p = self.out.append
        ttfb = of(self.rows, "ttfb")
        runs = len({r["run"] for r in ttfb})
        p(f"4. Time to first byte, {self.data['miss_mib']} MiB blobs: median of {runs} runs, milliseconds")
        p(f"   {'server':<10} {'miss TTFB':>10} {'miss total':>11} {'hit TTFB':>9} {'hit total':>10}")
        medians = {}
        for server in ("regmirror", "proxy"):
            cells = []
            for kind in ("miss", "hit"):
                rs = of(self.rows, "ttfb", server=server, kind=kind)
                bad = [r for r in rs if r["status"] != "200" or int(r["bytes"]) != int(self.data["miss_mib"]) * 1048576]
                if bad:
                    p(f"   warning: {server} {kind}: {len(bad)} incomplete response(s), status {bad[0]['status']}")
                for key in ("ttfb_s", "total_s"):
                    medians[(server, kind, key)] = statistics.median(float(r[key]) for r in rs) * 1000
                    cells.append(medians[(server, kind, key)])
            p(f"   {server:<10} {cells[0]:>10.1f} {cells[1]:>11.0f} {cells[2]:>9.1f} {cells[3]:>10.0f}")
        nginx = of(self.rows, "ttfb", server="nginx")
        if nginx:
            ms = statistics.median(float(r["ttfb_s"]) for r in nginx) * 1000
            p(f"   {'nginx':<10} {'':>10} {'':>11} {ms:>9.1f}   (its {self.blob_mib} MiB file, for comparison)")
        miss_ratio = ratio(medians[("regmirror", "miss", "ttfb_s")], medians[("proxy", "miss", "ttfb_s")])
        p(f"   miss TTFB regmirror/proxy: {miss_ratio:.2f} (lower is better)")
        p("")

    def memory(self):
        """Peak memory, regmirror's heap, and the check of the bytes served."""
        p = self.out.append
        peak = of(self.rows, "memory")[0]
        gc = of(self.rows, "gc")[0]
        rss = of(self.rows, "rss")[0]
        heap = of(self.rows, "heap")
        p("5. Memory")
        p(f"   peak RSS (VmHWM): regmirror {peak['regmirror_hwm_mib']} MiB (JVM, -Xmx{peak['heap_max']}),"
          f" proxy {peak['proxy_hwm_mib']} MiB,")
        p(f"   nginx {peak['nginx_hwm_mib_sum']} MiB (master + workers)")
        p(f"   regmirror RSS: {rss['regmirror_first_mib']} MiB at start, {rss['regmirror_max_mib']} MiB at most (1 s samples);"
          f" proxy at most {rss['proxy_max_mib']} MiB")
        p(f"   regmirror heap (jstat, 1 s samples): at most {gc['heap_used_max_mib']} MiB used,"
          f" {gc['heap_committed_max_mib']} MiB committed;")
        p(f"   {gc['young_gcs']} young GCs in the whole run")
        p("   regmirror after a forced full GC (live heap / RSS):")
        for i in range(0, len(heap), 3):
            p("     " + ", ".join(f"{h['label']} {h['live_mib']}/{h['rss_mib']} MiB" for h in heap[i:i + 3]))
        p("")
        checks = of(self.rows, "verify")
        p("Bytes served match the digest: " + ", ".join(f"{c['server']} {c['blob_sha256_ok']}" for c in checks))
        if any(c["blob_sha256_ok"] != "yes" for c in checks):
            p("WARNING: a server sent bytes that do not match the blob's digest; its numbers mean nothing")


def main():
    raw, environment, hit_client, wrk = sys.argv[1:5]
    rows = parse(raw)
    report = Report(rows)
    report.header(environment, of(rows, "load")[0])
    report.cache_hits(hit_client)
    report.manifests(wrk)
    report.cold()
    report.first_byte()
    report.memory()
    print("\n".join(report.out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Turns the raw measurements of bench/run.sh (lines of 'kind key=value ...') into the printed table.

Usage: report.py RAW ENVIRONMENT HIT_CLIENT_DESCRIPTION WRK_DESCRIPTION
"""

import statistics
import sys

HIT_VS_PROXY = 1.5    # issue target: cache hits at least 1.5x the proxy's throughput
HIT_VS_NGINX = 0.85   # issue target: cache hits within 15% of nginx


def parse(path):
    """Lines of the raw file as (kind, {key: value}); the first line has no kind."""
    rows = []
    with open(path) as f:
        for line in f:
            words = line.split()
            kind = words[0] if "=" not in words[0] else "data"
            values = dict(w.split("=", 1) for w in words if "=" in w)
            rows.append((kind, values))
    return rows


def of(rows, row_kind, **match):
    return [v for k, v in rows if k == row_kind and all(v.get(key) == want for key, want in match.items())]


def verdict(ok):
    return "PASS" if ok else "FAIL"


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    raw, environment, hit_client, wrk = sys.argv[1:5]
    rows = parse(raw)
    data = of(rows, "data")[0]
    load = of(rows, "load")[0]
    other_max = int(load["other_max"])
    cores = int(load["cores"])
    blob_mib = int(data["blob_mib"])
    out = []
    p = out.append

    p("regmirror benchmark")
    p("machine: " + environment.replace("; ", "\n         "))
    p(f"load average when the run started: {load['at_start_1min']}")
    p(f"CPU of kernel threads / of other processes, of {cores * 100}%:")
    p("  " + ", ".join(f"{ph['name']} {ph['kernel_cpu_pct']}/{max(0, int(ph['other_cpu_pct']))}%" for ph in of(rows, "phase")))
    p(f"blob {data['blob']} ({blob_mib} MiB)")
    p("")

    hits = of(rows, "hit")
    runs = max(int(h["run"]) for h in hits)
    p(f"1. Cache-hit throughput, {blob_mib} MiB blob: GiB/s, median of {runs} run(s) (server CPU, 100% = one core)")
    p(f"   client: {hit_client}")
    p(f"   {'clients':>7}  {'regmirror':>14}  {'proxy':>14}  {'nginx':>14}  {'rm/proxy':>8} {'>=1.5x':6}  {'rm/nginx':>8} {'>=0.85':6}")
    ranges = []
    for c in dict.fromkeys(h["connections"] for h in hits):
        medians, cells = [], []
        for server in ("regmirror", "proxy", "nginx"):
            rs = of(rows, "hit", server=server, connections=c)
            g = statistics.median(float(r["gibps"]) for r in rs)
            cpu = statistics.median(int(r["server_cpu_pct"]) for r in rs)
            medians.append(g)
            cells.append(f"{g:6.2f} ({cpu:>3.0f}%)")
            ranges.append((c, server, " ".join(f"{float(r['gibps']):.2f}" for r in rs)))
        vp, vn = ratio(medians[0], medians[1]), ratio(medians[0], medians[2])
        p(f"   {c:>7}  {cells[0]:>14}  {cells[1]:>14}  {cells[2]:>14}  {vp:>8.2f} {verdict(vp >= HIT_VS_PROXY):6}"
          f"  {vn:>8.2f} {verdict(vn >= HIT_VS_NGINX):6}")
    if runs > 1:
        p("   every run, GiB/s:")
        for c in dict.fromkeys(c for c, _, _ in ranges):
            p(f"   {c:>7}  " + "  ".join(f"{server} {values}" for cc, server, values in ranges if cc == c))
    other = statistics.median(int(h["other_cpu_pct"]) for h in hits)
    client = statistics.median(int(h["client_cpu_pct"]) for h in hits)
    softirq = statistics.median(int(h["softirq_cpu_pct"]) for h in hits)
    kernel = statistics.median(int(h["kernel_cpu_pct"]) for h in hits)
    p(f"   CPU besides the server (medians, of {cores * 100}%): client {client:.0f}%, kernel threads {kernel:.0f}%,"
      f" other processes {other:.0f}%;")
    p(f"   softirq (loopback TCP, inside the server's and the client's share) {softirq:.0f}%")
    disturbed = of(rows, "disturbed", phase="hit")
    if disturbed:
        p(f"   {len(disturbed)} run(s) were repeated because other processes took more than {other_max}% CPU")
    if other > other_max:
        p(f"   WARNING: other processes used {other:.0f}% CPU during these runs; the numbers are disturbed")
    upstream = of(rows, "hit-upstream")[0]["upstream_requests"]
    if upstream != "0":
        p(f"   note: the upstream saw {upstream} requests during the cache-hit runs (listed in the raw numbers)")
    p("")

    p(f"2. Manifest GET by digest, cached: {wrk}")
    p(f"   {'server':<10} {'req/s':>10} {'p50':>9} {'p99':>9} {'CPU':>5} {'wrk':>5} {'other':>6}  {'upstream req':>12}  errors")
    manifests = {}
    for row in of(rows, "manifest"):
        manifests[row["server"]] = float(row["rps"])
        p(f"   {row['server']:<10} {float(row['rps']):>10.0f} {row['p50']:>9} {row['p99']:>9}"
          f" {row['server_cpu_pct'] + '%':>5} {row['wrk_cpu_pct'] + '%':>5} {row['other_cpu_pct'] + '%':>6}"
          f"  {row['upstream_requests']:>12}  {row['errors']}")
    disturbed = of(rows, "disturbed", phase="manifest")
    if disturbed:
        p(f"   {len(disturbed)} run(s) were repeated because other processes took more than {other_max}% CPU")
    p(f"   regmirror/proxy: {ratio(manifests['regmirror'], manifests['proxy']):.2f}x"
      f"   (nginx serves a static file: a reference only)")
    p(f"   CPU: the server's, wrk's and other processes', of {cores * 100}%")
    p("")

    p(f"3. Cold {blob_mib} MiB blob, clients at once: bytes the upstream sent")
    p(f"   {'server':<10} {'complete':>9} {'seconds':>8} {'upstream GETs':>13} {'upstream bytes':>15} {'x blob':>7}  target")
    for row in of(rows, "cold"):
        times = int(row["upstream_bytes"]) / int(row["blob_bytes"])
        target = verdict(row["upstream_bytes"] == row["blob_bytes"] and row["upstream_gets"] == "1") + " (exactly 1x)" \
            if row["server"] == "regmirror" else ""
        p(f"   {row['server']:<10} {row['complete'] + '/' + row['clients']:>9} {row['seconds']:>8} {row['upstream_gets']:>13}"
          f" {row['upstream_bytes']:>15} {times:>7.2f}  {target}")
    p("   upstream GETs of this blob in the whole run, by User-Agent:")
    for t in of(rows, "upstream-total"):
        p(f"     {t['agent']}: {t['gets']} GETs, {t['bytes']} bytes")
    p("")

    ttfb = of(rows, "ttfb")
    runs = len({r["run"] for r in ttfb})
    p(f"4. Time to first byte, {data['miss_mib']} MiB blobs: median of {runs} runs, milliseconds")
    p(f"   {'server':<10} {'miss TTFB':>10} {'miss total':>11} {'hit TTFB':>9} {'hit total':>10}")
    medians = {}
    for server in ("regmirror", "proxy"):
        cells = []
        for kind in ("miss", "hit"):
            rs = of(rows, "ttfb", server=server, kind=kind)
            bad = [r for r in rs if r["status"] != "200" or int(r["bytes"]) != int(data["miss_mib"]) * 1048576]
            if bad:
                p(f"   warning: {server} {kind}: {len(bad)} incomplete response(s), status {bad[0]['status']}")
            for key in ("ttfb_s", "total_s"):
                medians[(server, kind, key)] = statistics.median(float(r[key]) for r in rs) * 1000
                cells.append(medians[(server, kind, key)])
        p(f"   {server:<10} {cells[0]:>10.1f} {cells[1]:>11.0f} {cells[2]:>9.1f} {cells[3]:>10.0f}")
    p(f"   miss TTFB regmirror/proxy: {ratio(medians[('regmirror', 'miss', 'ttfb_s')], medians[('proxy', 'miss', 'ttfb_s')]):.2f}"
      " (lower is better)")
    p("")

    memory = of(rows, "memory")[0]
    gc = of(rows, "gc")[0]
    rss = of(rows, "rss")[0]
    heap = of(rows, "heap")
    p("5. Memory")
    p(f"   peak RSS (VmHWM): regmirror {memory['regmirror_hwm_mib']} MiB (JVM, -Xmx{memory['heap_max']}),"
      f" proxy {memory['proxy_hwm_mib']} MiB,")
    p(f"   nginx {memory['nginx_hwm_mib_sum']} MiB (master + workers)")
    p(f"   regmirror RSS: {rss['regmirror_first_mib']} MiB at start, {rss['regmirror_max_mib']} MiB at most (1 s samples);"
      f" proxy at most {rss['proxy_max_mib']} MiB")
    p(f"   regmirror heap (jstat, 1 s samples): at most {gc['heap_used_max_mib']} MiB used,"
      f" {gc['heap_committed_max_mib']} MiB committed;")
    p(f"   {gc['young_gcs']} young GCs in the whole run")
    p("   regmirror after a forced full GC (live heap / RSS):")
    for i in range(0, len(heap), 3):
        p("     " + ", ".join(f"{h['label']} {h['live_mib']}/{h['rss_mib']} MiB" for h in heap[i:i + 3]))
    p("")
    checks = of(rows, "verify")
    p("Bytes served match the digest: " + ", ".join(f"{c['server']} {c['blob_sha256_ok']}" for c in checks))
    print("\n".join(out))


if __name__ == "__main__":
    main()

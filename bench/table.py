#!/usr/bin/env python3
"""table.py RESULTS - print bench/run's raw results as a table.

RESULTS has one line per number: "<setup> <metric> <value>". Columns are the
setups in the order they ran; after them, the ratio of each smartproxy setup
to stunnel and to haproxy (for memory a ratio below 1 is better), and the
change of sp+mods against the plain smartproxy chain (throughput and CPU rows).
"""
import sys

ROWS = [
    ("thru_mib_s", "raw TLS stream, MiB/s (median)"),
    ("thru_cpu_s_gib", "raw TLS stream, proxy CPU-s per GiB"),
    ("thru_cpu_s_gib_dmz", "raw TLS stream, DMZ process CPU-s per GiB"),
    ("oftp2_mib_s", "OFTP2 file transfer, MiB/s (median)"),
    ("oftp2_cpu_s_gib", "OFTP2 transfer, proxy CPU-s per GiB"),
    ("oftp2_cpu_s_gib_dmz", "OFTP2 transfer, DMZ process CPU-s per GiB"),
    ("par_mib_s", "OFTP2 transfers at once (BENCH_PAR), MiB/s in all"),
    ("par_cpu_s_gib", "transfers at once, proxy CPU-s per GiB"),
    ("par_cpu_s_gib_dmz", "transfers at once, DMZ process CPU-s per GiB"),
    ("flood_oftp2_mib_s", "OFTP2 transfer during flood, MiB/s"),
    ("flood_bogus_per_s", "bogus connects during flood, 1/s"),
    ("flood_cores_busy", "cores busy during the flood transfer"),
    ("flood_cores_proxy", "of which the proxy processes"),
    ("flood_cores_generator", "flood generator, cores over its own run"),
    ("setup_per_s", "full OFTP2 session set-ups, 1/s"),
    ("setup_main_ms", "DMZ main thread CPU ms per set-up"),
    ("setup_loops_ms", "DMZ session loops CPU ms per set-up"),
    ("setup_pools_ms", "DMZ pool threads CPU ms per set-up"),
    ("idle_kib_per_session", "DMZ memory per idle session, KiB"),
    ("conc_established", "concurrent idle sessions held"),
    ("conc_kib_per_session", "DMZ memory per session at that count, KiB"),
    ("conc_dmz_rss_kib", "DMZ RSS with them, KiB"),
    ("idle_dmz_rss_closed_kib", "DMZ RSS after the idle sessions ended, KiB"),
    ("conc_dmz_rss_closed_kib", "DMZ RSS after the concurrent ones ended, KiB"),
    ("survived", "processes alive at the end"),
]


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def main():
    data, setups, info = {}, [], {}
    with open(sys.argv[1]) as f:
        for line in f:
            parts = line.split(None, 2)
            if len(parts) < 3:
                continue
            setup, metric, value = parts[0], parts[1], parts[2].strip()
            if setup == "all":
                info[metric] = value
                continue
            if setup not in setups:
                setups.append(setup)
            data[(setup, metric)] = value
    for k in ("machine", "modules", "load", "load_end"):
        if k in info:
            print("%-10s %s" % (k + ":", info[k]))
    for s in setups:
        if (s, "tls_outside") in data:
            print("%-10s %s" % ("tls " + s + ":", data[(s, "tls_outside")]))
        if (s, "tls_tunnel") in data:
            print("%-10s %s" % ("tunnel " + s + ":", data[(s, "tls_tunnel")]))
    ratios = []
    for mine in ("sp", "sp+mods"):
        for ref in ("stunnel", "haproxy"):
            if mine in setups and ref in setups:
                ratios.append((mine, ref))
    head = ["%-44s" % "metric"] + ["%10s" % s for s in setups]
    head += ["%14s" % ("%s/%s" % (a, b[:2])) for a, b in ratios]
    if "sp" in setups and "sp+mods" in setups:
        head.append("%12s" % "mods vs sp")
    print(" ".join(head))
    for metric, label in ROWS:
        if not any((s, metric) in data for s in setups):
            continue
        row = ["%-44s" % label]
        row += ["%10s" % data.get((s, metric), "-") for s in setups]
        for a, b in ratios:
            x, y = num(data.get((a, metric))), num(data.get((b, metric)))
            row.append("%14s" % ("%.2fx" % (x / y) if x is not None and y else "-"))
        if "sp" in setups and "sp+mods" in setups:
            x, y = num(data.get(("sp+mods", metric))), num(data.get(("sp", metric)))
            cost = "-"
            if (metric.endswith("mib_s") or "cpu_s_gib" in metric) and x is not None and y:
                cost = "%+.1f%%" % ((x - y) / y * 100)
            row.append("%12s" % cost)
        print(" ".join(row))


main()

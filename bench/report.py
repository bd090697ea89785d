"""Summarises bench/results/latest.tsv as Markdown: medians per scenario and target, and Balancing / YARP ratios."""
import csv
import os
import platform
import statistics
import subprocess
import sys
from collections import defaultdict

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = defaultdict(list)
for row in rows:
    by[(row["scenario"], row["target"])].append(row)


def med(scenario, target, key):
    values = [float(r[key]) for r in by[(scenario, target)]]
    return statistics.median(values) if values else float("nan")


def total(scenario, target, key):
    return sum(int(r[key]) for r in by[(scenario, target)])


def cmd(*args):
    try:
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        return (done.stdout.strip() or done.stderr.strip() or "?").splitlines()[0]
    except OSError:
        return "?"


cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print("# Benchmark: Balancing vs YARP vs the backends directly\n")
print(f"- Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}")
print(f"- .NET SDK {cmd('dotnet', '--version')}; wrk {cmd('wrk', '--version').split()[1] if cmd('wrk', '--version') != '?' else '?'}; "
      f"backends: {cmd('nginx', '-v').replace('nginx version: ', '')} x3 on loopback, one worker")
print(f"- Rounds per target: {len(next(iter(by.values())))}, interleaved (Balancing, YARP, direct, Balancing, ...) after a warm-up; "
      "values are medians over rounds; errors are totals.")
print("- Both proxies: Release build, round robin over the same three backends, logging at Warning.")
extra = os.environ.get("BALANCING_ARGS", "").strip()
print(f"- Balancing's extra settings: `{extra}`" if extra else "- Balancing with its defaults (retries and passive health on, active health checks off).")
yarp_extra = os.environ.get("YARP_ARGS", "").strip()
print(f"- YARP's extra settings: `{yarp_extra}`\n" if yarp_extra else "- YARP as its documentation configures it, without metrics.\n")
print("| scenario | target | req/s | p50 ms | p99 ms | non-2xx | socket errors | CPU s / 10k req | peak RSS MiB | RSS start→end MiB |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
for scenario in scenarios:
    for target in ("balancing", "yarp", "direct"):
        if (scenario, target) not in by:
            continue
        rs = by[(scenario, target)]
        cpu10k = statistics.median(float(r["cpu_s"]) / max(int(r["requests"]), 1) * 10000 for r in rs)
        print(f"| {scenario} | {target} | {med(scenario, target, 'rps'):.0f} | {med(scenario, target, 'p50_ms'):.2f} | "
              f"{med(scenario, target, 'p99_ms'):.2f} | {total(scenario, target, 'non2xx')} | {total(scenario, target, 'socket_errors')} | "
              f"{cpu10k:.2f} | {med(scenario, target, 'peak_rss_mib'):.0f} | "
              f"{rs[0]['start_rss_mib']}→{rs[-1]['end_rss_mib']} |")
print("\n## Balancing / YARP\n")
print("| scenario | req/s ratio | p99 ratio | peak RSS ratio | CPU per request ratio |")
print("|---|---:|---:|---:|---:|")
for scenario in scenarios:
    def ratio(key):
        b, y = med(scenario, "balancing", key), med(scenario, "yarp", key)
        return b / y if y else float("nan")
    cpu = lambda t: statistics.median(float(r["cpu_s"]) / max(int(r["requests"]), 1) for r in by[(scenario, t)])
    print(f"| {scenario} | {ratio('rps'):.2f} | {ratio('p99_ms'):.2f} | {ratio('peak_rss_mib'):.2f} | {cpu('balancing') / cpu('yarp'):.2f} |")

"""Turns one wrk --latency output (stdin) into a TSV row for bench/run.sh."""
import re
import sys

scenario, target, round_, ticks, clk_tck, peak_kib, start_kib, end_kib = sys.argv[1:9]
text = sys.stdin.read()


def to_ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def latency(pct: str) -> float:
    match = re.search(rf"^\s*{pct}%\s+(\S+)", text, re.M)
    return to_ms(match.group(1)) if match else float("nan")


rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
requests = int(re.search(r"(\d+) requests in", text).group(1))
non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text)) else 0
socket = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text)) if "Socket errors" in text else 0
mib = lambda kib: f"{int(kib) / 1024:.1f}" if kib else "nan"
cpu_s = int(ticks) / int(clk_tck)
print("\t".join([scenario, target, round_, f"{rps:.0f}", f"{latency(50):.3f}", f"{latency(99):.3f}",
                 str(non2xx), str(socket), str(requests), f"{cpu_s:.2f}", mib(peak_kib), mib(start_kib), mib(end_kib)]))

#!/usr/bin/env bash
# Soak: the sample host over three nginx backends under a steady wrk load, while one backend restarts every minute.
# Reports the errors wrk saw, p50/p99, and the balancer's RSS sampled over the run (it should stay flat).
# Usage: bench/soak.sh   (DURATION=600 CONNECTIONS=1000 THREADS=2 RESTART_EVERY=60 DOWNTIME=2 SAMPLE_EVERY=5
#                         LB_PORT=8090 BACKEND_PORTS="9111 9112 9113" RESULTS_NAME=soak to change)
# Not a test and not run in CI. Needs: the .NET SDK, wrk, nginx, curl, python3 (apt-get install wrk nginx curl python3).
# Its own ports (8090, 9111-9113), so it does not collide with bench/run.sh. Writes bench/results/$RESULTS_NAME.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
DURATION=${DURATION:-600}
CONNECTIONS=${CONNECTIONS:-1000}
THREADS=${THREADS:-2}
RESTART_EVERY=${RESTART_EVERY:-60}
DOWNTIME=${DOWNTIME:-2}
SAMPLE_EVERY=${SAMPLE_EVERY:-5}
LB_PORT=${LB_PORT:-8090}
read -r -a ports <<< "${BACKEND_PORTS:-9111 9112 9113}"
name=${RESULTS_NAME:-soak}

for tool in wrk nginx dotnet python3 curl; do
  command -v "$tool" >/dev/null || { echo "soak: '$tool' is missing (apt-get install wrk nginx curl python3)" >&2; exit 1; }
done
ulimit -n 65535 2>/dev/null || true

work=$(mktemp -d /tmp/balancing-soak.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for dir in "$work"/nginx*; do [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building the sample host (Release)"
dotnet build "$repo/samples/Balancing.Sample/Balancing.Sample.csproj" -c Release -v q -nologo -o "$work/balancing" >/dev/null

# One nginx per backend, so that one can be stopped and started on its own.
backend_dir() { echo "$work/nginx$1"; }
start_backend() { local dir; dir=$(backend_dir "$1"); nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon on;'; }
stop_backend() {
  local dir pid; dir=$(backend_dir "$1"); pid=$(cat "$dir/nginx.pid")
  kill -TERM "$pid"   # fast shutdown: connections in flight are cut, as in a crash or a hard restart
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

echo "== starting three nginx backends on 127.0.0.1:${ports[*]}"
settings=()
for i in 0 1 2; do
  dir=$(backend_dir "$i"); mkdir -p "$dir/data"
  cp "$here/nginx/backend.inc" "$dir/"
  head -c 65536 /dev/urandom > "$dir/data/64k"
  cat > "$dir/nginx.conf" <<EOF
worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    client_body_temp_path body;
    proxy_temp_path proxy;
    fastcgi_temp_path fastcgi;
    uwsgi_temp_path uwsgi;
    scgi_temp_path scgi;
    default_type text/plain;
    server { listen 127.0.0.1:${ports[$i]}; include backend.inc; }
}
EOF
  start_backend "$i"
  settings+=("--LoadBalancer:Pools:default:Backends:b$((i + 1)):Address=http://127.0.0.1:${ports[$i]}")
done
chmod -R a+rX "$work"   # nginx's worker runs unprivileged

echo "== starting the sample host on :$LB_PORT"
( cd "$work/balancing" && exec dotnet Balancing.Sample.dll --urls "http://127.0.0.1:$LB_PORT" \
    --Logging:LogLevel:Default=Warning "${settings[@]}" ${BALANCING_ARGS:-} ) > "$work/balancing.log" 2>&1 &
balancing_pid=$!; pids+=("$balancing_pid")
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$LB_PORT/" 2>/dev/null && break; sleep 0.2; done
curl -fsS -o /dev/null "http://127.0.0.1:$LB_PORT/" || { echo "soak: nothing answers on :$LB_PORT" >&2; cat "$work/balancing.log" >&2; exit 1; }

# RSS of the balancer every SAMPLE_EVERY seconds: seconds since start, KiB.
start=$(date +%s)
( while kill -0 "$balancing_pid" 2>/dev/null; do
    printf '%s\t%s\n' "$(( $(date +%s) - start ))" "$(awk '$1 == "VmRSS:" {print $2}' "/proc/$balancing_pid/status")"
    sleep "$SAMPLE_EVERY"
  done ) > "$work/rss.tsv" &
pids+=($!)

# The third backend goes down for DOWNTIME seconds every RESTART_EVERY seconds.
( while true; do
    sleep "$RESTART_EVERY"
    printf '%s\tstop\n' "$(( $(date +%s) - start ))"; stop_backend 2
    sleep "$DOWNTIME"
    start_backend 2; printf '%s\tstart\n' "$(( $(date +%s) - start ))"
  done ) > "$work/restarts.tsv" 2>&1 &
pids+=($!)

echo "== wrk: $CONNECTIONS connections, $THREADS threads, ${DURATION}s; backend b3 restarts every ${RESTART_EVERY}s"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency "http://127.0.0.1:$LB_PORT/" > "$work/wrk.txt" || true
cat "$work/wrk.txt"

mkdir -p "$here/results"
python3 - "$work/wrk.txt" "$work/rss.tsv" "$work/restarts.tsv" "$work/balancing.log" \
  "$DURATION" "$CONNECTIONS" "$THREADS" "$RESTART_EVERY" "$DOWNTIME" > "$here/results/$name.md" <<'PY'
import re
import sys

wrk_path, rss_path, restarts_path, log_path, duration, connections, threads, every, downtime = sys.argv[1:10]
wrk = open(wrk_path).read()


def latency(pct):
    m = re.search(rf"^\s*{pct}%\s+(\S+)", wrk, re.M)
    return m.group(1) if m else "n/a"


requests = int(m.group(1)) if (m := re.search(r"(\d+) requests in", wrk)) else 0
rps = m.group(1) if (m := re.search(r"Requests/sec:\s+([\d.]+)", wrk)) else "n/a"
non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)) else 0
sockets = dict(re.findall(r"(connect|read|write|timeout) (\d+)", wrk)) if "Socket errors" in wrk else {}
rss = [tuple(int(x) for x in line.split("\t")) for line in open(rss_path) if line.strip() and line.split("\t")[1].strip()]
restarts = [line.strip() for line in open(restarts_path) if line.strip()]
log = open(log_path).read()
warnings = len(re.findall(r"^warn:", log, re.M))
by_event = {}
for category, event in re.findall(r"^(?:warn|fail|crit): ([\w.]+)\[(\d+)\]", log, re.M):
    key = f"{category.rsplit('.', 1)[-1]} event {event}"
    by_event[key] = by_event.get(key, 0) + 1
errors = len(re.findall(r"^(fail|crit):", log, re.M))

print("# Soak\n")
print(f"`bench/soak.sh`: {duration} s at {connections} connections ({threads} wrk threads) against the sample host "
      f"over three nginx backends; backend b3 stopped (SIGTERM, connections cut) for {downtime} s every {every} s.\n")
print("| Requests | Requests/s | p50 | p99 | Non-2xx | Socket errors (connect/read/write/timeout) | Backend restarts | Balancer warnings / errors logged |")
print("|---|---|---|---|---|---|---|---|")
sock = "/".join(sockets.get(k, "0") for k in ("connect", "read", "write", "timeout"))
print(f"| {requests} | {rps} | {latency(50)} | {latency(99)} | {non2xx} | {sock} | {sum(1 for r in restarts if r.endswith('start'))} | {warnings} / {errors} |\n")
if by_event:
    print("Logged warnings and errors by event: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_event.items())) + ".\n")
if rss:
    values = [kib for _, kib in rss]
    print(f"Balancer RSS: first {values[0] / 1024:.1f} MiB, last {values[-1] / 1024:.1f} MiB, "
          f"min {min(values) / 1024:.1f} MiB, max {max(values) / 1024:.1f} MiB over {len(values)} samples.\n")
    print("| t (s) | RSS (MiB) |")
    print("|---|---|")
    for t, kib in rss:
        print(f"| {t} | {kib / 1024:.1f} |")
print("\n## wrk\n\n```\n" + wrk.strip() + "\n```")
PY
echo "== wrote bench/results/$name.md"
cat "$here/results/$name.md"

# Shared by run.sh and profile.sh: builds Release, starts three nginx backends on 127.0.0.1:9101-9103,
# Balancing's sample host on :8080 and the YARP baseline on :8081, and stops them all on exit.
# Expects $here (bench/) and $repo to be set by the caller.
for tool in wrk nginx dotnet python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing (apt-get install wrk nginx curl python3)" >&2; exit 1; }
done
ulimit -n 65535 2>/dev/null || true

work=$(mktemp -d /tmp/balancing-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building (Release)"
dotnet build "$repo/samples/Balancing.Sample/Balancing.Sample.csproj" -c Release -v q -nologo -o "$work/balancing" >/dev/null
dotnet build "$here/Balancing.Bench.YarpHost/Balancing.Bench.YarpHost.csproj" -c Release -v q -nologo -o "$work/yarp" >/dev/null

echo "== starting backends (nginx on 127.0.0.1:9101-9103)"
mkdir -p "$work/nginx"
cp "$here/nginx/backends.conf" "$here/nginx/backend.inc" "$work/nginx/"
mkdir -p "$work/nginx/data" && head -c 65536 /dev/urandom > "$work/nginx/data/64k"
chmod -R a+rX "$work"   # nginx's worker runs unprivileged
nginx -p "$work/nginx" -c "$work/nginx/backends.conf" -g 'daemon on;'

backends="http://127.0.0.1:9101,http://127.0.0.1:9102,http://127.0.0.1:9103"
# Both proxies log at Warning: per-request console logging would measure the console, not the proxy.
common=(--Logging:LogLevel:Default=Warning --Kestrel:Limits:MaxRequestBodySize=16777216)

echo "== starting Balancing (sample host, round robin) on :8080 and YARP 2.3.0 (round robin) on :8081"
( cd "$work/balancing" && exec dotnet Balancing.Sample.dll --urls http://127.0.0.1:8080 "${common[@]}" \
    --LoadBalancer:Pools:default:Backends:b1:Address=http://127.0.0.1:9101 \
    --LoadBalancer:Pools:default:Backends:b2:Address=http://127.0.0.1:9102 \
    --LoadBalancer:Pools:default:Backends:b3:Address=http://127.0.0.1:9103 \
    --LoadBalancer:Forwarding:MaxRequestBodySize=16777216 ${BALANCING_ARGS:-} ) > "$work/balancing.log" 2>&1 &
pids+=($!); balancing_pid=$!
( cd "$work/yarp" && exec dotnet Balancing.Bench.YarpHost.dll --urls http://127.0.0.1:8081 "${common[@]}" --Backends "$backends" ${YARP_ARGS:-} ) > "$work/yarp.log" 2>&1 &
pids+=($!); yarp_pid=$!

for port in 8080 8081 9101; do
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.2; done
  curl -fsS -o /dev/null "http://127.0.0.1:$port/" || { echo "bench: nothing answers on :$port" >&2; cat "$work"/*.log >&2; exit 1; }
done
nginx_worker=$(pgrep -P "$(cat "$work/nginx/nginx.pid")" | head -1)

target_url() { case $1 in balancing) echo "http://127.0.0.1:8080";; yarp) echo "http://127.0.0.1:8081";; direct) echo "http://127.0.0.1:9101";; esac; }
target_pid() { case $1 in balancing) echo "$balancing_pid";; yarp) echo "$yarp_pid";; direct) echo "$nginx_worker";; esac; }

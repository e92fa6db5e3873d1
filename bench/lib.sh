# shellcheck shell=bash disable=SC2034
# Shared by bench/run, bench/privacy and bench/httplibs/run (sourced, bash).
# Loopback only.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

# A free TCP port on 127.0.0.1 (asks the kernel for one).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
    local port=$1 limit=${2:-20} i
    for ((i = 0; i < limit * 10; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

# wrk_json OUTFILE WRK-ARGS...: runs wrk with bench/report.lua (unless the
# args carry their own -s), keeps the human output in OUTFILE and prints the
# WRKJSON object.
wrk_json() {
    local out=$1
    shift
    local script=(-s "$BENCH_DIR/report.lua")
    local a
    for a in "$@"; do [ "$a" = -s ] && script=(); done
    wrk "${script[@]}" "$@" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed"; }
    grep '^WRKJSON ' "$out" | tail -1 | cut -d' ' -f2- | grep . || { cat "$out" >&2; die "wrk printed no WRKJSON"; }
}

# json_get JSON KEY: one field of a JSON object.
json_get() {
    python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

# median of the numbers given
median() {
    printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

# ratio A B: A/B to 2 decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# nginx_start DIR PORT [CONTENT-TYPE]: an unprivileged nginx (its own prefix
# DIR, config, pid and logs; no system files touched) serving DIR/www on
# 127.0.0.1:PORT, 2 workers, every file with CONTENT-TYPE (default
# application/json). Static-file defaults of Debian's nginx.conf (sendfile,
# tcp_nopush) plus reuseport, open_file_cache and no access log: a well-tuned
# nginx. DIR/server.conf, when there is one, goes inside the server block
# (bench/web writes its locations and headers there). Returns when it
# accepts.
nginx_start() {
    local dir=$1 port=$2 ctype=${3:-application/json} include=""
    [ -f "$dir/server.conf" ] && include="include $dir/server.conf;"
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || die "nginx missing: scripts/install-deps bench"
    local bin
    bin=$(command -v nginx || echo /usr/sbin/nginx)
    mkdir -p "$dir/www" "$dir/tmp" "$dir/logs"
    cat >"$dir/nginx.conf" <<EOF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    open_file_cache max=100 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    types { }
    default_type "$ctype";
    server {
        listen 127.0.0.1:$port reuseport;
        root $dir/www;
        $include
    }
}
EOF
    if [ "$(id -u)" -eq 0 ]; then
        # as root: run the whole instance as nobody, not as a root master
        chmod 755 "$dir"
        chown -R nobody:nogroup "$dir"
        setpriv --reuid=nobody --regid=nogroup --clear-groups \
            "$bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" ||
            die "nginx did not start: $(cat "$dir/logs/error.log" 2>/dev/null)"
    else
        "$bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" ||
            die "nginx did not start: $(cat "$dir/logs/error.log" 2>/dev/null)"
    fi
    wait_port "$port" || die "nginx does not accept on $port"
}

nginx_stop() {
    local dir=$1
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null
    return 0
}

# One line about the machine, for the reports.
machine_info() {
    local cpu cores mem kernel
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    cores=$(nproc)
    mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
    kernel=$(uname -r)
    printf '%s, %s cores, %s RAM, Linux %s, %s' "${cpu:-unknown CPU}" "$cores" "$mem" "$kernel" \
        "$(. /etc/os-release && echo "$PRETTY_NAME")"
}

# ---- a civic311 under test (bench/run, bench/privacy) ----
#
# These work on globals the caller sets: BIN (the civic311 binary; set it
# with use_binary), WORK (the run's scratch dir, on the repo's disk so that
# fsync means something), OUT (build/bench, where results go) and
# BUILD_INFO (what save records as the build). start_server sets PORT and
# SERVER_PID, and runs the server under SERVER_WRAP (a command and its
# arguments, e.g. valgrind; empty by default) when set.

# use_binary PATH: benchmark this civic311 from now on (BIN, SERVE_FLAGS).
use_binary() {
    BIN=$1
    [ -x "$BIN" ] || die "no civic311 binary at $BIN"
    SERVE_FLAGS=()
    "$BIN" serve --help 2>&1 | grep -q -- --quiet && SERVE_FLAGS+=(--quiet) # no access log, as nginx
    return 0
}

# build_info PATH [TREE]: "civic311 X.Y.Z, commit abc1234" for the binary
# and the git tree it was built from (default: this repo), noting
# uncommitted changes in src/ with a hash of them (changed and new files),
# so that two runs can tell whether they measured the same source.
build_info() {
    local bin=$1 tree=${2:-$REPO_DIR} info sum
    info="$("$bin" version 2>/dev/null | head -1), commit $(git -C "$tree" rev-parse --short HEAD 2>/dev/null || echo '?')"
    if [ -n "$(git -C "$tree" status --porcelain -- src 2>/dev/null)" ]; then
        sum=$( (cd "$tree" && git diff HEAD -- src && git ls-files -o --exclude-standard -- src |
            LC_ALL=C sort | while IFS= read -r f; do printf '%s\n' "$f"; cat "$f"; done) |
            sha256sum | cut -c1-8)
        info+=" + uncommitted changes in src/ (hash $sum)"
    fi
    printf '%s' "$info"
}

# start_server DATA-DIR [FLAGS...]: civic311 serve on a free port; sets PORT
# and SERVER_PID, returns when it answers.
start_server() {
    local data=$1
    shift
    PORT=$(free_port)
    local wrap=("${SERVER_WRAP[@]}")
    "${wrap[@]}" "$BIN" serve --data "$data" --listen "127.0.0.1:$PORT" "${SERVE_FLAGS[@]}" "$@" \
        >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    wait_port "$PORT" 60 || die "civic311 serve did not start: $(tail -5 "$WORK/server.log")"
}

# stop_server: SIGTERM (a clean shutdown answers every queued request),
# SIGKILL after 10 s.
stop_server() {
    [ -n "${SERVER_PID:-}" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

new_store() { # new_store DIR: a demo store with one API key; prints the key
    "$BIN" init --data "$1" --demo >>"$WORK/cli.log" 2>&1 || die "init failed: $(tail -5 "$WORK/cli.log")"
    "$BIN" apikey create --data "$1" --name bench 2>>"$WORK/cli.log" | tail -1
}

api() { echo "http://127.0.0.1:$PORT/open311/v2$1"; }

# run_wrk NAME WRK-ARGS...: a wrk run; prints its WRKJSON object.
run_wrk() {
    local name=$1
    shift
    wrk_json "$WORK/wrk-$name.txt" "$@"
}

# median_run JSON-LINES: the run with the median rps (the upper one of the
# two middle runs when there is an even number), plus the list of all.
median_run() {
    python3 -c '
import json, sys
runs = [json.loads(x) for x in sys.argv[1].splitlines() if x.strip()]
runs.sort(key=lambda r: r["rps"])
m = dict(runs[len(runs) // 2])
m["runs_rps"] = [r["rps"] for r in runs]
print(json.dumps(m))' "$1"
}

# save PART JSON: build/bench/last-PART.json, with when, where and BUILD_INFO.
save() {
    python3 - "$1" "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(machine_info)" \
        "$(findmnt -n -o FSTYPE -T "$WORK" 2>/dev/null || echo '?')" "$OUT/last-$1.json" \
        "$BUILD_INFO" <<'EOF'
import json, sys
part, data, when, machine, fs, path, build = sys.argv[1:8]
d = json.loads(data)
d.update({"part": part, "date": when, "machine": machine, "fs": fs, "build": build})
json.dump(d, open(path, "w"), indent=1)
EOF
}

# post_form API-KEY (a server running): a valid form body for POST
# requests.json: a realtime service with no required attribute if there is
# one, else the first realtime service with its required attributes
# answered. No description and no personal field: post.lua adds them.
post_form() {
    python3 - "$(api '')" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
base, key = sys.argv[1], sys.argv[2]
get = lambda p: json.load(urllib.request.urlopen(base + p, timeout=10))
services = [s for s in get("/services.json") if s.get("type", "realtime") == "realtime"]
plain = [s for s in services if not s.get("metadata")]
svc = (plain or services)[0]
form = [("api_key", key), ("service_code", svc["service_code"]),
        ("lat", "40.7128"), ("long", "-74.0060"),
        ("address_string", "350 5th Ave, New York, NY")]
if svc.get("metadata"):
    for a in get("/services/%s.json" % urllib.parse.quote(svc["service_code"]))["attributes"]:
        if not (a.get("variable") and a.get("required")):
            continue
        dt = a.get("datatype")
        v = {"number": "1", "datetime": "2024-01-01T08:00:00Z"}.get(dt, "bench")
        if dt in ("singlevaluelist", "multivaluelist"):
            v = a["values"][0]["key"]
        form.append(("attribute[%s]" % a["code"], v))
print(urllib.parse.urlencode(form))
EOF
}

# post_one FORMFILE: POSTs one request (a marker), prints its
# service_request_id.
post_one() {
    curl -sf -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
        --data-binary "$(cat "$1")&description=bench+marker" "$(api /requests.json)" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0].get("service_request_id") or "")'
}

# with_stored WRKJSON BEFORE-ID AFTER-ID: the wrk result plus "stored": how
# many requests the store gained between two markers (ids are given in
# order: after - before - 1), null if a marker failed.
with_stored() {
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
try: d["stored"] = int(sys.argv[3]) - int(sys.argv[2]) - 1
except ValueError: d["stored"] = None
print(json.dumps(d))' "$1" "$2" "$3"
}

# fsync_rate DIR: 4 KiB write + fsync per second from one thread, for up to
# 2 s, in a scratch file in DIR: what a durable commit costs on this disk.
fsync_rate() {
    python3 - "$1/fsync-probe" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
n, t0 = 0, time.monotonic()
while n < 2000 and time.monotonic() - t0 < 2.0:
    os.write(fd, b"\0" * 4096)
    os.fsync(fd)
    n += 1
os.close(fd)
os.unlink(sys.argv[1])
print("%.0f" % (n / (time.monotonic() - t0)))
EOF
}

# shellcheck shell=bash disable=SC2034
# Shared by bench/run and bench/httplibs/run (sourced, bash). Loopback only.

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
# nginx. Returns when it accepts.
nginx_start() {
    local dir=$1 port=$2 ctype=${3:-application/json}
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

#!/bin/sh
# t38live.sh [T38_CALLS [G711_CALLS]]: how many simultaneous live calls one
# t38recv --live process receives on this machine with every page intact.
# Starts t38recv --live on 127.0.0.1 (its own spool and directory in a temp
# dir), runs bench/t38live_bench (faxsend processes placing CALLS calls at
# once, loopback only) for T.38 over UDPTL with 2% loss, then for G.711
# u-law, and prints each run's line (ok/failed, server CPU per call).
# Defaults 100 and 50: a run of 500 faxsend processes needs more than 2 cores.
set -eu
NT=${1:-100}; NG=${2:-50}
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
SHARED=${SHARED:-$TOP/../shared}
T=$(mktemp -d /tmp/umfax-bench-live.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
PORT=$((21000 + $$ % 8000)); TPORT=$((PORT + 1))
cat >"$T/dir.conf" <<'CONF'
dialplan bench-dp
    uri-type = sipname
    fax-enabled = true
policy bench-fax
    dialplan = bench-dp
    allow-fax = true
    fax-server-uri = sip:127.0.0.1:5090;transport=udp
mailbox fax
    primary-smtp-address = fax@bench.test
    policy = bench-fax
    sip-addresses = fax
CONF
cat >"$T/umfax.conf" <<CONF
spool_directory = $T/spool
directory_file = $T/dir.conf
t38live_listen = 127.0.0.1:$PORT
t38live_tcp_port = $TPORT
t38live_max_calls = 1000
CONF
UMFAX_LOG_SYSLOG=0 UMFAX_LOG_STDERR=0 "$TOP/$B/bin/t38recv" --live -c "$T/umfax.conf" &
PID=$!
i=0
until sipsak -s "sip:ping@127.0.0.1:$PORT" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 50 ] || { echo "t38live: server did not start"; exit 1; }
	sleep 0.1
done
TIF=$SHARED/data/tiff/itu/itu1.tif
rc=0
"$TOP/$B/bench/t38live_bench" -s "127.0.0.1:$PORT" -P "$PID" -n "$NT" -t udptl -l 2 \
	-x "$TOP/$B/tools/faxsend" "$TIF" || rc=1
"$TOP/$B/bench/t38live_bench" -s "127.0.0.1:$PORT" -P "$PID" -n "$NG" -t ulaw \
	-x "$TOP/$B/tools/faxsend" "$TIF" || rc=1
echo "t38live: jobs in received/: $(ls "$T/spool/received" | wc -l), RSS of the server at the end: $(sed -n 's/^VmRSS:[[:space:]]*//p' /proc/$PID/status)"
exit $rc

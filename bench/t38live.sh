#!/bin/sh
# t38live.sh [T38_STEPS [G711_STEPS]]: how many simultaneous live fax calls
# one t38recv --live process receives on this machine with every page intact.
#
# Each step starts a fresh t38recv --live on 127.0.0.1 (its own spool and
# directory in a temp dir; t38live_max_calls = 2000) and runs
# bench/t38live_bench: ONE process placing N calls at once (one SIP UDP
# socket for all, one media socket and one spandsp session per call, call
# starts spread evenly over 2 s, loopback only), each sending FILE (default
# itu1.tif: one ITU chart page, 1728x2382, about 20 s at V.17 14400 with
# ECM; a call lasts about 30 s).  T.38 steps use UDPTL with LOSS % of the
# sender's datagrams dropped (default 2, seeded: redundancy must recover
# them); G.711 steps use u-law RTP.
#
# After the run every job in SPOOL/received is checked: N jobs, each with
# Status: complete, Pages: the page count of FILE, and a TIFF that
# tests/tools/tiffpixcmp finds pixel-identical to FILE (identical bodies are
# compared once).  Failures are counted by reason: missing, status=...,
# pages=..., pixels.  One line per step:
#   intact     calls whose job passed all of that (the figure the ramp uses)
#   wall       first INVITE to last hang-up
#   server_cpu/call, server_core
#              the server's utime+stime (from /proc) over the run, per call
#              and as % of one core over the wall time
#   server_mem/call
#              (VmHWM at the end - VmRSS before the first call) / calls: peak
#              resident growth per call, the server being fresh each step
#   sender_ok  calls whose sending side saw T.30 end OK with every page
#              (lower than intact when the sender gave up after the server
#              had the page, e.g. a late MCF)
#   sender_cpu, sender_late_ticks
#              the sender's own CPU, and 20 ms ticks it ran late: non-zero
#              means the sender, not the server, fell behind
#   load       1-minute load average before the step (other work on the box)
# A step passes when every job is intact AND every sender saw T.30 end OK
# (a sender that missed the MCF would send the fax again: a duplicate).
# With no arguments (make bench): T.38 steps "100 250 500 1000", G.711
# steps "25 50 100 200 400"; a series stops at the first step that does not
# pass.  Ends with "t38live: max T.38 calls intact N,
# max G.711 calls intact M".  Steps may be given, e.g. sh bench/t38live.sh
# "20" "10"; an empty list skips that series.  Environment: LOSS, FILE,
# TIMEOUT (per step, default 150 s), VERBOSE=1 (the sender's own lines),
# T38RECV (the server binary, to compare builds).
# The default ramp takes about 5 minutes.  Exit 1 only when a server could
# not be started: a step short of every page is the finding, not an error.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
SHARED=${SHARED:-$TOP/../shared}
T38_STEPS=${1-100 250 500 1000}
G711_STEPS=${2-25 50 100 200 400}
LOSS=${LOSS:-2}
FILE=${FILE:-$SHARED/data/tiff/itu/itu1.tif}
TIMEOUT=${TIMEOUT:-150}
T38RECV=${T38RECV:-$TOP/$B/bin/t38recv}; TOOLS=$TOP/$B/tools; BENCH=$TOP/$B/bench
for f in "$T38RECV" "$TOOLS/tiffpixcmp" "$BENCH/t38live_bench" "$FILE"; do
	[ -r "$f" ] || { echo "t38live: missing $f (make build/bin/t38recv build/tools/tiffpixcmp build/bench/t38live_bench)"; exit 1; }
done
NP=$(tiffinfo "$FILE" 2>/dev/null | grep -c '^TIFF Directory')
T=$(mktemp -d /tmp/umfax-bench-live.XXXXXX)
PID=
stop_server() {
	if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=; fi
}
trap 'stop_server; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
cat >"$T/dir.conf" <<'CONF'
dialplan bench-dp
    uri-type = sipname
    extension-digits = 4
    fax-enabled = true
policy bench-fax
    dialplan = bench-dp
    allow-fax = true
    fax-server-uri = sip:127.0.0.1:5090;transport=udp
mailbox fax
    primary-smtp-address = fax@bench.test
    policy = bench-fax
    sip-addresses = fax@127.0.0.1
CONF

# start_server DIR: t38recv --live with its spool in DIR; sets PID and PORT
start_server() {
	for try in 1 2 3 4 5; do
		PORT=$((21000 + ($$ * 7 + try * 131 + ${STEP:-0} * 17) % 30000))
		mkdir -p "$1"
		cat >"$1/umfax.conf" <<CONF
spool_directory = $1/spool
directory_file = $T/dir.conf
t38live_listen = 127.0.0.1:$PORT
t38live_tcp_port = $((PORT + 1))
t38live_max_calls = 2000
CONF
		UMFAX_LOG_SYSLOG=0 "$T38RECV" --live -c "$1/umfax.conf" 2>"$1/log" &
		PID=$!
		i=0
		while [ $i -lt 50 ]; do
			if sipsak -s "sip:ping@127.0.0.1:$PORT" >/dev/null 2>&1; then return 0; fi
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.1; i=$((i + 1))
		done
		stop_server
	done
	echo "t38live: cannot start t38recv --live"; cat "$1/log"; return 1
}

# check_jobs DIR N: prints "intact=K" and failure counts by reason
check_jobs() {
	rx=$1/spool/received; want=$2
	mkdir -p "$1/body"
	# one awk for every header: file status pages content-length
	ls "$rx" >"$1/jobs"
	got=$(wc -l <"$1/jobs")
	if [ "$got" -gt 0 ]; then
		(cd "$rx" && xargs awk 'FNR == 1 { st = "none"; pg = "none"; cl = 0 }
		    /^Status: / { st = $2 } /^Pages: / { pg = $2 } /^Content-Length: / { cl = $2 }
		    /^\r?$/ { print FILENAME, st, pg, cl; nextfile }' <"$1/jobs") >"$1/hdrs"
	else
		: >"$1/hdrs"
	fi
	: >"$1/reasons"
	while read -r f st pg cl; do
		if [ "$st" != complete ]; then echo "status=$st" >>"$1/reasons"
		elif [ "$pg" != "$NP" ]; then echo "pages=$pg" >>"$1/reasons"
		else tail -c "$cl" "$rx/$f" >"$1/body/$f.tif"; fi
	done <"$1/hdrs"
	# identical bodies are identical pixels: compare each distinct body once
	if ls "$1/body" | grep -q .; then
		(cd "$1/body" && sha1sum -- *.tif) | sort >"$1/sums"
		awk '{ print $1 }' "$1/sums" | uniq -c | while read -r cnt sum; do
			f=$(awk -v s="$sum" '$1 == s { print $2; exit }' "$1/sums")
			if "$TOOLS/tiffpixcmp" "$FILE" "$1/body/$f" >/dev/null 2>&1; then
				echo "ok $cnt"
			else
				echo "pixels $cnt"
			fi
		done >"$1/cmp"
	else
		: >"$1/cmp"
	fi
	intact=$(awk '$1 == "ok" { n += $2 } END { print n + 0 }' "$1/cmp")
	awk '$1 == "pixels" { n += $2 } END { for (i = 0; i < n; i++) print "pixels" }' "$1/cmp" >>"$1/reasons"
	[ "$got" -lt "$want" ] && echo "missing=$((want - got))" >>"$1/reasons"
	[ "$got" -gt "$want" ] && echo "extra=$((got - want))" >>"$1/reasons"
	why=$(sort "$1/reasons" | uniq -c | awk '{ printf "%s%s x%d", sep, $2, $1; sep = ", " }')
	echo "intact=$intact${why:+ bad: $why}"
}

STEP=0
# run KIND TRANSPORT N: one step; prints its line; exit 0 when all N intact
run() {
	kind=$1; tr=$2; n=$3
	STEP=$((STEP + 1)); D=$T/step$STEP
	start_server "$D" || return 2
	la=$(cut -d' ' -f1 /proc/loadavg)
	lossarg=
	[ "$tr" = udptl ] && lossarg="-l $LOSS"
	# shellcheck disable=SC2086
	"$BENCH/t38live_bench" -s "127.0.0.1:$PORT" -P "$PID" -n "$n" -t "$tr" $lossarg -S "$STEP" \
		-T "$TIMEOUT" "$FILE" >"$D/bench.out" 2>"$D/bench.err"
	# jobs are committed when BYE arrives: wait until received/ stops growing
	prev=-1; i=0
	while [ $i -lt 50 ]; do
		c=$(ls "$D/spool/received" 2>/dev/null | wc -l)
		[ "$c" -ge "$n" ] && break
		[ "$c" = "$prev" ] && [ $i -ge 10 ] && break
		prev=$c; sleep 0.2; i=$((i + 1))
	done
	stop_server
	res=$(check_jobs "$D" "$n")
	intact=${res#intact=}; intact=${intact%% *}
	l=$(head -1 "$D/bench.out")
	v() { echo "$l" | sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p"; }
	sc=$(echo "$l" | sed -n 's/.* sender_cpu=\([^ ]*\) (\([0-9]*\)% of a core).*/\1 (\2% of a core)/p')
	printf 't38live: %-9s calls=%-4s %s wall=%s server_cpu/call=%s server_core=%s server_mem/call=%skB sender_ok=%s sender_cpu=%s sender_late_ticks=%s load=%s\n' \
		"$kind" "$n" "$res" "$(v wall)" "$(v per_call)" "$(v core_share)" "$(v hwm_growth_per_call | tr -d kB)" \
		"$(v ok)" "$sc" "$(v late_ticks)" "$la"
	grep '^t38live_bench: failures' "$D/bench.out" | sed 's/^t38live_bench: /    sender /'
	[ -s "$D/bench.err" ] && head -5 "$D/bench.err" | sed 's/^/    sender: /'
	grep 'error=' "$D/log" | head -3 | sed 's/^/    server: /'
	[ -n "${VERBOSE:-}" ] && sed 's/^/    /' "$D/bench.out"
	rm -rf "$D/body"
	[ "$intact" = "$n" ] && [ "$(v ok)" = "$n" ]
}

MAXT=0; MAXG=0; rc=0
echo "t38live: file=${FILE##*/} pages=$NP loss=$LOSS% (T.38) uptime:$(uptime | sed 's/.*load/ load/')"
for n in $T38_STEPS; do
	run t38-udptl udptl "$n"; r=$?
	[ $r = 0 ] && MAXT=$n
	[ $r = 2 ] && rc=1
	[ $r = 0 ] || break
done
for n in $G711_STEPS; do
	run g711-ulaw ulaw "$n"; r=$?
	[ $r = 0 ] && MAXG=$n
	[ $r = 2 ] && rc=1
	[ $r = 0 ] || break
done
echo "t38live: max T.38 calls intact $MAXT, max G.711 calls intact $MAXG"
exit $rc

#!/bin/sh
# bench/sipredirect.sh - INVITE -> 302 -> ACK calls per second over loopback UDP:
# sipredirect (stateless and stateful, directory lookup for every call) side by
# side with Kamailio as a stateless redirect server (sl_send_reply 302, a fixed
# Contact, no lookup), measured by the same load generator (bench/sipload) in
# the same run.  Bounded: CALLS per round (default 200000), ROUNDS rounds
# (default 3), at most 60 s per round.  Prints one line per measurement and a
# summary with the ratio of the medians and the p99 latencies.
#   B=build sh bench/sipredirect.sh
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
CALLS=${CALLS:-200000}; ROUNDS=${ROUNDS:-3}; WINDOW=${WINDOW:-30}
LOAD=$B/bench/sipload; SIPR=$B/bin/sipredirect
[ -x "$LOAD" ] && [ -x "$SIPR" ] || { echo "build $LOAD and $SIPR first"; exit 1; }
command -v kamailio >/dev/null || { echo "kamailio not installed"; exit 1; }
T=$(mktemp -d /tmp/umfax-bench.XXXXXX)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
base=$((23000 + ($$ * 11) % 20000))
P1=$base; P2=$((base + 1)); PK=$((base + 2))
MODS=$(ls -d /usr/lib/*/kamailio/modules 2>/dev/null | head -n 1)

# 100,000 mailboxes, as DESIGN.md asks the directory to hold.
{
	printf 'dialplan dp\n    uri-type = telextn\n    extension-digits = 5\n    phone-context = dp.fax.test\n    gateways = 127.0.0.1\n'
	printf 'policy fax\n    dialplan = dp\n    allow-fax = true\n    fax-server-uri = sip:127.0.0.1:5090;transport=tcp\n'
	awk 'BEGIN { for (i = 10000; i < 110000; i++) { e = i % 100000; printf "mailbox u%d\n    primary-smtp-address = u%d@fax.test\n    policy = fax\n    extensions = %05d\n", i, i, e } }'
} >"$T/dir.conf"
printf 'sipredirect_host = um1.fax.test\nsipredirect_log_calls = no\n' >"$T/umfax.conf"
RB='<sip:127.0.0.1:5090;transport=tcp?Referred-By=%3Csip%3Aum1.fax.test%3BmsExchUMFaxRecipient%3Dsmtp%3Au12345%40fax.test%3BmsExchUMContext%3DQ2FsbElkPUwxMjM0LTEyJTQwc2lwbG9hZCZDYWxsZXJJZD0lMkIxNDI1NTU1MDAxMiZFeHRlbnNpb249MTIzNDUmUGhvbmVDb250ZXh0PWRwLmZheC50ZXN0JkNhbGxlcklkRGlzcGxheU5hbWU9TG9hZCsxMg%253D%253D%3E>'
cat >"$T/kamailio.cfg" <<EOF
#!KAMAILIO
debug=1
log_stderror=yes
children=2
disable_tcp=yes
listen=udp:127.0.0.1:$PK
mpath="$MODS/"
loadmodule "sl.so"
loadmodule "textops.so"
request_route {
	if (is_method("ACK")) { exit; }
	if (is_method("INVITE")) {
		append_to_reply("Contact: $RB\r\n");
		sl_send_reply("302", "Moved Temporarily");
		exit;
	}
	sl_send_reply("200", "OK");
}
EOF
UMFAX_LOG_SYSLOG=0 "$SIPR" -c "$T/umfax.conf" -f "$T/dir.conf" -l "udp:127.0.0.1:$P1" >"$T/s1.log" 2>&1 &
PIDS="$PIDS $!"
UMFAX_LOG_SYSLOG=0 "$SIPR" -c "$T/umfax.conf" -f "$T/dir.conf" -l "udp:127.0.0.1:$P2" --stateful >"$T/s2.log" 2>&1 &
PIDS="$PIDS $!"
kamailio -f "$T/kamailio.cfg" -DD -E -w "$T" >"$T/k.log" 2>&1 &
PIDS="$PIDS $!"
sleep 1.5
for p in $P1 $P2 $PK; do
	"$LOAD" -s "127.0.0.1:$p" -n 100 -u 12345 -T 5 >/dev/null || { echo "peer on $p not answering"; cat "$T"/*.log; exit 1; }
done

run() {   # NAME PORT MATCH
	out=$("$LOAD" -s "127.0.0.1:$2" -n "$CALLS" -w "$WINDOW" -T 60 -u 12345 -m "$3")
	echo "$1 $out"
	echo "$1 $out" >>"$T/results"
}
r=1
while [ $r -le "$ROUNDS" ]; do
	run kamailio-stateless "$PK" "Referred-By"
	run sipredirect-stateless "$P1" "smtp%3Au12345%40fax.test"
	run sipredirect-stateful "$P2" "smtp%3Au12345%40fax.test"
	r=$((r + 1))
done
awk '
function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int((n + 1) / 2)] }
{
	name = $1; for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	n[name]++; cps[name, n[name]] = v["cps"]; p99[name, n[name]] = v["p99_us"]
	bad[name] += v["fail"] + v["retrans"] + v["unanswered"]
}
END {
	for (name in n) {
		for (i = 1; i <= n[name]; i++) { c[i] = cps[name, i]; p[i] = p99[name, i] }
		mc[name] = med(c, n[name]); mp[name] = med(p, n[name])
		printf "summary %-22s median_cps=%d median_p99_us=%d failures+retrans=%d\n", name, mc[name], mp[name], bad[name]
	}
	if (mc["kamailio-stateless"] > 0)
		printf "ratio sipredirect-stateless/kamailio-stateless = %.2f, sipredirect-stateful/kamailio-stateless = %.2f\n",
		    mc["sipredirect-stateless"] / mc["kamailio-stateless"], mc["sipredirect-stateful"] / mc["kamailio-stateless"]
}' "$T/results"

#!/bin/sh
# faxmail_bench.sh [N]: how fast faxmail mails faxes into a real Postfix.
#
# Starts a private Postfix (tests/e2e/postfix.sh, plain mode), puts N jobs
# (default 200) with the 3-page sample TIFF (92 kB) into resolved/, and
# measures:
#   build   faxmail -n over the N jobs (MIME building only, no msmtp)
#   send    faxmail -q: build + one msmtp run + SMTP per job, until all N
#           jobs are in sent/
#   deliver until Postfix has put all N into the Maildir
# and prints mails per second and the cost per mail.  Not a test.
# Run from the repository root after "make": sh bench/faxmail_bench.sh 500
set -eu
N=${1:-200}
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
FM=$TOP/$B/bin/faxmail
SHARED=${SHARED:-$TOP/../shared}
TIF=$SHARED/data/captures/expected/syn_t38udp_v0_noecm_v17_3p.tif
. "$TOP/tests/e2e/postfix.sh"
[ -x "$FM" ] || { echo "faxmail_bench: build $FM first" >&2; exit 1; }
T=$(mktemp -d /tmp/umfax-bench-faxmail.XXXXXX)
trap 'pf_stop "$T/pf"; rm -rf "$T"' EXIT
P=$(pf_port)
PF_USERS=tony pf_start "$T/pf" "$P" plain
pf_msmtprc "$T/pf" "$P" plain "$T/msmtprc" fax@umfax.test
mkdir -p "$T/spool/resolved"
cat >"$T/umfax.conf" <<EOF
spool_directory = $T/spool
msmtp_config = $T/msmtprc
mail_from = fax@umfax.test
EOF
export UMFAX_LOG_SYSLOG=0 UMFAX_LOG_STDERR=0
len=$(stat -c %s "$TIF")
i=0
while [ $i -lt "$N" ]; do
	i=$((i + 1))
	{ printf 'Umfax-Job: 1\nJob-Id: bench%05d\nContent-Length: %s\nCaller: +14255550100\nCaller-Name: Bench %d\nRecipient: tony@fax.test\nPages: 3\nStatus: complete\n\n' "$i" "$len" "$i"
	  cat "$TIF"; } >"$T/spool/resolved/bench$(printf %05d $i)"
done
ms() { date +%s%N | cut -c1-13; }

t0=$(ms)
cat "$T"/spool/resolved/* | "$FM" -c "$T/umfax.conf" -n >/dev/null
t1=$(ms)
"$FM" -c "$T/umfax.conf" -q
t2=$(ms)
pf_wait_mail "$T/pf" "$N" 600
t3=$(ms)
sent=$(ls "$T/spool/sent" | wc -l)
[ "$sent" = "$N" ] || { echo "faxmail_bench: only $sent of $N sent" >&2; exit 1; }
mail=$(wc -c <"$(pf_mails "$T/pf" | head -n 1)")
echo "faxmail_bench: $N jobs, TIFF $len bytes, mail $mail bytes"
awk -v n="$N" -v b=$((t1 - t0)) -v s=$((t2 - t1)) -v d=$((t3 - t1)) 'BEGIN {
	printf "  build only (faxmail -n):   %7.1f mails/s  %6.2f ms/mail\n", n * 1000 / (b ? b : 1), b / n
	printf "  handed to Postfix (-q):    %7.1f mails/s  %6.2f ms/mail\n", n * 1000 / (s ? s : 1), s / n
	printf "  delivered to the Maildir:  %7.1f mails/s  %6.2f ms/mail\n", n * 1000 / (d ? d : 1), d / n
}'

#!/bin/sh
# make demo: replay a sample fax capture through the whole pipeline, as an
# administrator would run it, against the sample directory, into a private
# Postfix on 127.0.0.1 that delivers to a local Maildir.
#
#   DEMO_DIR   where everything goes (default /var/tmp/umfax-demo)
#   CAPTURE    the capture to replay (default the 3-page T.38 sample)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
BIN=$TOP/$B/bin
SHARED=${SHARED:-$TOP/../shared}
D=${DEMO_DIR:-/var/tmp/umfax-demo}
CAPTURE=${CAPTURE:-$SHARED/data/captures/syn_t38udp_v0_noecm_v17_3p.pcap}
. "$TOP/tests/e2e/postfix.sh"

[ -r "$CAPTURE" ] || { echo "demo: cannot read the capture $CAPTURE" >&2; exit 66; }
if [ -f "$D/pf/etc/main.cf" ]; then pf_stop "$D/pf" || true; fi
rm -rf "$D"
mkdir -p "$D"
PORT=$(pf_port)
trap 'pf_stop "$D/pf" >/dev/null 2>&1 || true' EXIT
PF_USERS="tony" pf_start "$D/pf" "$PORT" plain
pf_msmtprc "$D/pf" "$PORT" plain "$D/msmtprc" fax@umfax.test
cp "$TOP/share/umfax/directory.conf" "$D/directory.conf"
cat >"$D/umfax.conf" <<CONF
# umfax.conf of the demo (see umfax.conf(5))
spool_directory = $D/spool
directory_file = $D/directory.conf
msmtp_config = $D/msmtprc
mail_from = fax@umfax.test
CONF
C="-c $D/umfax.conf"
echo "demo: mail server: private Postfix on 127.0.0.1:$PORT (in $D/pf)"
echo "demo: replaying ${CAPTURE##*/} through t38recv -> faxtiff -> umresolve -> faxmail (spool $D/spool)"
"$BIN/t38recv" $C -q -r "$CAPTURE"
"$BIN/faxtiff" $C -q
"$BIN/umresolve" $C -q
"$BIN/faxmail" $C -q
if ! pf_wait_mail "$D/pf" 1 60; then
	echo "demo: no mail arrived; the spool holds:" >&2
	ls -R "$D/spool" >&2
	pf_log "$D/pf" | tail -n 20 >&2
	exit 1
fi
MAIL=$(pf_mails "$D/pf" | head -n 1)
echo "demo: the job: $(ls "$D/spool/sent")"
sed -n '/^$/q;p' "$D/spool/sent/"* | sed 's/^/demo:   /'
echo "demo: delivered mail (Maildir $(dirname "$(dirname "$MAIL")")):"
echo "$MAIL"

# postfix.sh - a private Postfix instance for umfax's end-to-end tests.
#
# Source it from a test (". "$TOP/tests/e2e/postfix.sh") and use:
#
#   pf_port                  print a free TCP port on 127.0.0.1 (20000-29999)
#   pf_start DIR PORT [MODE] start Postfix with everything under DIR
#   pf_stop DIR              stop it; returns when no process of it is left
#   pf_wait_mail DIR COUNT TIMEOUT
#                            wait (at most TIMEOUT seconds) until the Maildirs
#                            under DIR/mail hold COUNT mails; 0 if so, else 1
#   pf_count_mail DIR        print how many mails the Maildirs hold
#   pf_mails DIR             print the paths of all delivered mails, sorted
#   pf_msmtprc DIR PORT MODE FILE [FROM]
#                            write an msmtprc (mode 0600) for this instance
#   pf_log DIR               print Postfix's log (DIR/log/maillog)
#   pf_queue DIR             print postqueue -p of the instance
#
# MODE is how the server trusts the fax server (PROTOCOL.md section 4):
#   plain      client address allow-list: permit_mynetworks, reject, with
#              mynetworks = 127.0.0.1/32 (a client bound to 127.0.0.2 is
#              refused at RCPT TO with 554 5.7.1)
#   starttls   smtpd_tls_security_level = encrypt: MAIL FROM before STARTTLS
#              gets "530 5.7.0 Must issue a STARTTLS command first"
#   clientcert encrypt, and smtpd_tls_req_ccert = yes: a client certificate
#              signed by the test CA is required
# In starttls and clientcert mode the test CA, the server certificate (for
# 127.0.0.1 and localhost) and a client certificate are made with openssl in
# DIR/tls: ca.pem, server.pem/server.key, client.pem/client.key.
#
# Mail: the virtual domain fax.test is delivered to Maildirs under DIR/mail.
# Each local part named in $PF_USERS (default "fax") has its own Maildir,
# DIR/mail/fax.test/USER/{new,cur}; every other address of fax.test goes to
# DIR/mail/fax.test/any/, except local parts starting with "nouser", which
# get Postfix's own "550 5.1.1 ... User unknown in virtual mailbox table",
# and those starting with "tempfail", which get "451 4.3.0 test instance: try
# again later" (a temporary refusal, as a busy server gives).
# Virtual delivery adds a Delivered-To: header naming the recipient.
# Nothing leaves the instance: every other domain gets an error transport.
# Postfix logs to DIR/log/maillog.  Must run as root (Postfix's master).
#
# Layout: DIR/etc (main.cf, master.cf, maps), DIR/queue, DIR/data, DIR/mail,
# DIR/log, DIR/tls.  DIR is made 0755, and each parent directory gets o+x,
# because the Postfix daemons and the virtual delivery agent run as the
# postfix user (mktemp -d makes 0700 directories).

pf_port() {
	_pf_i=0
	while [ $_pf_i -lt 200 ]; do
		_pf_p=$(( 20000 + ( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 10000 ) ))
		if ! ss -Htln "sport = :$_pf_p" 2>/dev/null | grep -q .; then
			echo "$_pf_p"
			return 0
		fi
		_pf_i=$((_pf_i + 1))
	done
	echo "pf_port: no free port found" >&2
	return 1
}

_pf_tls() {
	_pf_t=$1/tls
	[ -f "$_pf_t/client.pem" ] && return 0
	mkdir -p "$_pf_t" || return 1
	(
		cd "$_pf_t" || exit 1
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout ca.key -out ca.pem -days 30 -subj "/CN=umfax test CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" || exit 1
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout server.key -out server.csr -subj "/CN=localhost" || exit 1
		printf '%s\n' "basicConstraints=CA:FALSE" \
			"keyUsage=critical,digitalSignature,keyEncipherment" \
			"extendedKeyUsage=serverAuth" \
			"subjectAltName=DNS:localhost,IP:127.0.0.1" >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 30 -extfile server.ext -out server.pem || exit 1
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout client.key -out client.csr -subj "/CN=fax.umfax.test" || exit 1
		printf '%s\n' "basicConstraints=CA:FALSE" \
			"keyUsage=critical,digitalSignature,keyEncipherment" \
			"extendedKeyUsage=clientAuth" >client.ext
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 30 -extfile client.ext -out client.pem || exit 1
		# A certificate from another CA, for "wrong client cert" tests.
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout rogue.key -out rogue.pem -days 30 -subj "/CN=rogue" || exit 1
		chmod 0644 ca.pem server.pem client.pem rogue.pem
	) >"$_pf_t/openssl.log" 2>&1 || { echo "pf_start: openssl failed, see $_pf_t/openssl.log" >&2; return 1; }
}

pf_start() {
	_pf_d=$1; _pf_port=$2; _pf_mode=${3:-plain}
	case "$_pf_mode" in plain|starttls|clientcert) ;; *)
		echo "pf_start: unknown mode $_pf_mode (plain|starttls|clientcert)" >&2; return 1 ;;
	esac
	case "$_pf_d" in /*) ;; *) _pf_d=$(pwd)/$_pf_d ;; esac
	if [ "$(id -u)" != 0 ]; then echo "pf_start: must run as root" >&2; return 1; fi
	command -v postfix >/dev/null || { echo "pf_start: postfix is not installed" >&2; return 1; }
	_pf_uid=$(id -u postfix) && _pf_gid=$(id -g postfix) || return 1
	# A left-over instance of this DIR (a test killed before pf_stop) goes first.
	if [ -f "$_pf_d/etc/main.cf" ] && [ -n "$(_pf_pids "$_pf_d")" ]; then
		echo "pf_start: stopping a left-over instance in $_pf_d" >&2
		pf_stop "$_pf_d" || return 1
	fi
	mkdir -p "$_pf_d/etc" "$_pf_d/queue" "$_pf_d/data" "$_pf_d/mail" "$_pf_d/log" || return 1
	chmod 0755 "$_pf_d" "$_pf_d/etc" "$_pf_d/queue" || return 1
	# The postfix user must reach DIR: let it traverse every parent.
	_pf_a=$(dirname "$_pf_d")
	while [ "$_pf_a" != / ] && [ -n "$_pf_a" ]; do
		[ "$(( 0$(stat -c %a "$_pf_a") & 1 ))" = 1 ] || chmod o+x "$_pf_a" || return 1
		_pf_a=$(dirname "$_pf_a")
	done
	chown postfix:postfix "$_pf_d/data" "$_pf_d/mail" || return 1
	chmod 0700 "$_pf_d/data"; chmod 0755 "$_pf_d/mail"
	if [ "$_pf_mode" != plain ]; then _pf_tls "$_pf_d" || return 1; fi

	# Named users (PF_USERS) get their own Maildir; every other address of
	# fax.test, except nouser*, is caught in fax.test/any/ (Postfix does not
	# allow \$1 in a map that yields a mailbox path).
	: >"$_pf_d/etc/vusers" || return 1
	for _pf_u in ${PF_USERS:-fax}; do
		printf '%s@fax.test\tfax.test/%s/\n' "$_pf_u" "$_pf_u" >>"$_pf_d/etc/vusers"
	done
	printf 'if !/^nouser/\n/^[^@]+@fax\\.test$/\tfax.test/any/\nendif\n' \
		>"$_pf_d/etc/vany" || return 1
	# Local parts starting with "tempfail" get a temporary refusal at RCPT TO.
	printf '/^tempfail[^@]*@/\t451 4.3.0 test instance: try again later\n' \
		>"$_pf_d/etc/access" || return 1
	cat >"$_pf_d/etc/main.cf" <<EOF
# Private Postfix instance of an umfax test (tests/e2e/postfix.sh), mode $_pf_mode.
compatibility_level = 3.6
config_directory = $_pf_d/etc
queue_directory = $_pf_d/queue
data_directory = $_pf_d/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-umfax-$_pf_port
maillog_file = $_pf_d/log/maillog
maillog_file_prefixes = $_pf_d/log
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.fax.test
mydomain = fax.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
relay_domains =
relayhost =
mynetworks = 127.0.0.1/32
disable_dns_lookups = yes
smtp_host_lookup = native
lmtp_host_lookup = native
smtp_dns_support_level = disabled
default_transport = error:mail outside fax.test is not delivered by this test instance
relay_transport = error:mail outside fax.test is not delivered by this test instance
virtual_mailbox_domains = fax.test
virtual_mailbox_base = $_pf_d/mail
virtual_mailbox_maps = texthash:$_pf_d/etc/vusers, regexp:$_pf_d/etc/vany
virtual_uid_maps = static:$_pf_uid
virtual_gid_maps = static:$_pf_gid
virtual_minimum_uid = 1
virtual_mailbox_limit = 0
message_size_limit = 104857600
smtpd_banner = \$myhostname ESMTP umfax-test
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access regexp:$_pf_d/etc/access
biff = no
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 60s
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
anvil_rate_time_unit = 60s
default_process_limit = 20
EOF
	case "$_pf_mode" in
	plain)
		cat >>"$_pf_d/etc/main.cf" <<EOF
smtpd_client_restrictions = permit_mynetworks, reject
smtpd_tls_security_level = none
EOF
		;;
	starttls|clientcert)
		cat >>"$_pf_d/etc/main.cf" <<EOF
smtpd_client_restrictions =
smtpd_tls_security_level = encrypt
smtpd_tls_chain_files = $_pf_d/tls/server.key, $_pf_d/tls/server.pem
smtpd_tls_CAfile = $_pf_d/tls/ca.pem
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database =
EOF
		;;
	esac
	if [ "$_pf_mode" = clientcert ]; then
		cat >>"$_pf_d/etc/main.cf" <<EOF
smtpd_tls_ask_ccert = yes
smtpd_tls_req_ccert = yes
EOF
	fi
	cat >"$_pf_d/etc/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$_pf_port inet n    -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	echo "$_pf_mode $_pf_port" >"$_pf_d/etc/umfax-test-mode"
	if ! postfix -c "$_pf_d/etc" start >"$_pf_d/log/start.log" 2>&1; then
		# postfix(1) writes its reasons to stderr only when that is a tty.
		echo "pf_start: postfix -c $_pf_d/etc start failed:" >&2
		script -qc "postfix -c '$_pf_d/etc' check" /dev/null 2>&1 | sed 's/^/  /' >&2
		pf_log "$_pf_d" | tail -n 5 >&2
		return 1
	fi
	# Wait (at most 15 s) for smtpd to answer on the port.
	_pf_i=0
	while [ $_pf_i -lt 150 ]; do
		if ss -Htln "sport = :$_pf_port" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.1
		_pf_i=$((_pf_i + 1))
	done
	echo "pf_start: postfix did not listen on 127.0.0.1:$_pf_port within 15 s" >&2
	pf_log "$_pf_d" | tail -n 20 >&2
	return 1
}

# The pids of every process of the instance: those whose environment has
# MAIL_CONFIG=DIR/etc (Postfix passes it to all its daemons).
_pf_pids() {
	for _pf_e in /proc/[0-9]*/environ; do
		if { tr '\0' '\n' <"$_pf_e" | grep -qx "MAIL_CONFIG=$1/etc"; } 2>/dev/null; then
			_pf_p=${_pf_e#/proc/}; echo "${_pf_p%/environ}"
		fi
	done
}

pf_stop() {
	_pf_d=$1
	case "$_pf_d" in /*) ;; *) _pf_d=$(pwd)/$_pf_d ;; esac
	[ -f "$_pf_d/etc/main.cf" ] || return 0
	postfix -c "$_pf_d/etc" stop >>"$_pf_d/log/start.log" 2>&1
	_pf_i=0
	while [ $_pf_i -lt 100 ]; do
		[ -z "$(_pf_pids "$_pf_d")" ] && return 0
		sleep 0.1
		_pf_i=$((_pf_i + 1))
	done
	# Still there after 10 s: kill what is left of this instance only.
	_pf_left=$(_pf_pids "$_pf_d")
	echo "pf_stop: killing left-over processes $_pf_left" >&2
	# shellcheck disable=SC2086
	[ -n "$_pf_left" ] && kill -9 $_pf_left 2>/dev/null
	sleep 0.2
	[ -z "$(_pf_pids "$_pf_d")" ]
}

pf_mails() {
	find "$1/mail" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null | sort
}

pf_count_mail() {
	pf_mails "$1" | wc -l | tr -d ' '
}

pf_wait_mail() {
	_pf_d=$1; _pf_n=$2; _pf_t=${3:-30}
	_pf_i=0
	while [ $_pf_i -le $((_pf_t * 10)) ]; do
		[ "$(pf_count_mail "$_pf_d")" -ge "$_pf_n" ] && return 0
		sleep 0.1
		_pf_i=$((_pf_i + 1))
	done
	echo "pf_wait_mail: $(pf_count_mail "$_pf_d") of $_pf_n mails after ${_pf_t}s" >&2
	return 1
}

pf_log() {
	cat "$1/log/maillog" 2>/dev/null
}

pf_queue() {
	postqueue -c "$1/etc" -p 2>&1
}

# pf_msmtprc DIR PORT MODE FILE [FROM]: an msmtprc for account "default"
# speaking to the instance in MODE (plain: no TLS; starttls: STARTTLS with
# the test CA; clientcert: also the client certificate).
pf_msmtprc() {
	_pf_d=$1; _pf_port=$2; _pf_mode=$3; _pf_f=$4; _pf_from=${5:-fax@umfax.test}
	case "$_pf_d" in /*) ;; *) _pf_d=$(pwd)/$_pf_d ;; esac
	(
		umask 077
		{
			echo "defaults"
			echo "timeout 15"
			echo "account default"
			echo "host 127.0.0.1"
			echo "port $_pf_port"
			echo "from $_pf_from"
			echo "auth off"
			echo "domain fax-server.umfax.test"
			case "$_pf_mode" in
			plain) echo "tls off" ;;
			starttls|clientcert)
				echo "tls on"
				echo "tls_starttls on"
				echo "tls_trust_file $_pf_d/tls/ca.pem" ;;
			esac
			if [ "$_pf_mode" = clientcert ]; then
				echo "tls_cert_file $_pf_d/tls/client.pem"
				echo "tls_key_file $_pf_d/tls/client.key"
			fi
		} >"$_pf_f"
	) && chmod 0600 "$_pf_f"
}

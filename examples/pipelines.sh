#!/bin/sh
# Ways to chain the umfax programs.  Each line works on its own.

# Replay a capture and look at the mail that would be sent, sending nothing.
t38recv -r call.pcap | faxtiff | umresolve | faxmail -n

# Recover every fax of a capture into the spool; the queue runners do the rest.
t38recv -q -r call.pcap

# Skip faxtiff: umresolve reads what t38recv wrote.
t38recv -r call.pcap | umresolve | faxmail

# Retry one failed fax after fixing the directory.
umresolve -j 20261122T134500Z.4711.1 && faxmail -q

# Which faxes are waiting, and why.
for f in /var/spool/umfax/deferred/* /var/spool/umfax/failed/*; do
	[ -f "$f" ] || continue
	printf '%s\t' "${f##*/}"
	sed -n '/^$/q; s/^\(Deferred-Reason\|Failed-Reason\): //p' "$f"
done

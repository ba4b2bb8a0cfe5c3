# mailcheck.sh - helpers for e2e tests that look at delivered mail.
# Source it; needs $TOOLS (tiffpixcmp).

# mc_header MAIL NAME: the (unfolded) value of the first header NAME.
mc_header() {
	awk -v want="$(printf '%s' "$2" | tr 'A-Z' 'a-z')" '
		/^$/ { exit }
		/^[ \t]/ { if (cur == want) val = val " " substr($0, 2); next }
		{ if (found) exit
		  i = index($0, ":"); cur = tolower(substr($0, 1, i - 1))
		  if (cur == want) { val = substr($0, i + 1); sub(/^[ \t]+/, "", val); found = 1 } }
		END { if (found) print val; else exit 1 }' "$1"
}

# mc_count_parts MAIL TYPE: how many MIME parts have Content-Type TYPE.
mc_count_parts() {
	grep -ci "^Content-Type: *$2" "$1" || true
}

# mc_extract MAIL TYPE OUT: decode the first base64 part of TYPE into OUT.
mc_extract() {
	awk -v want="$(printf '%s' "$2" | tr 'A-Z' 'a-z')" '
		tolower($0) ~ "^content-type: *" want { inpart = 1; next }
		inpart && !body && /^$/ { body = 1; next }
		body && /^--/ { exit }
		body { print }' "$1" | base64 -d >"$3"
}

# ok CONDITION-TEXT: print a check line; fail MESSAGE: print and exit 1.
ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; exit 1; }

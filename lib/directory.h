/* directory.h - the directory: dial plans, mailbox policies, mailboxes, and
 * the fax rule (DESIGN.md "The directory"), shared by umresolve and sipredirect.
 *
 * The file (/etc/umfax/directory.conf, see directory.conf(5)) is a block per
 * object, a header line at the left margin followed by indented fields:
 *
 *   # comment (whole lines only; '#' inside a value is part of the value)
 *   dialplan contoso-dp
 *       uri-type = telextn                  telextn | e164 | sipname
 *       extension-digits = 4                1..20, required
 *       phone-context = contoso-dp.contoso.com
 *       country-code = 1
 *       fax-enabled = true                  default true
 *       gateways = 127.0.0.1, ::1, 10.0.0.0/8, 192.0.2.1-192.0.2.9
 *   policy contoso-fax
 *       dialplan = contoso-dp               required
 *       allow-fax = true                    default false
 *       fax-server-uri = sip:fax.contoso.com:5060;transport=tcp
 *       fax-message-text = "You have a new fax."   (<= 1024 characters)
 *   mailbox tony
 *       primary-smtp-address = tony@contoso.com     required
 *       policy = contoso-fax                        required
 *       extensions = 1234                           digits, of the dial plan's length
 *       e164-addresses = +14255551234
 *       sip-addresses = tony@contoso.com
 *       fax-enabled = true                          default true
 *       display-name = Tony Smith
 *
 * Lists are comma separated.  A value may be "quoted" (then \" \\ \n are
 * escapes), to keep leading or trailing spaces.  Booleans: true/false,
 * yes/no, on/off, 1/0, $true/$false.  Every error names the file and line.
 *
 * A loaded directory is read-only: lookups on one struct umfax_dir are safe
 * from several threads.  Lookups use hash tables (100,000 mailboxes: load
 * < 100 ms, lookup < 2 us). */
#ifndef UMFAX_DIRECTORY_H
#define UMFAX_DIRECTORY_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#define UMFAX_DEFAULT_DIRECTORY   "/etc/umfax/directory.conf"
#define UMFAX_DIR_NAME_MAX        64      /* dial plan / policy / alias names */
#define UMFAX_DIR_FAXTEXT_MAX     1024    /* fax-message-text, characters */

enum umfax_uri_type { UMFAX_URI_TELEXTN = 0, UMFAX_URI_E164, UMFAX_URI_SIPNAME };

/* One gateway allow-list entry: a single address, a-b range, or CIDR. */
struct umfax_iprange {
	int family;                       /* AF_INET or AF_INET6 */
	unsigned char lo[16], hi[16];     /* inclusive, network order (4 or 16 bytes used) */
};

struct umfax_dialplan {
	const char *name;
	enum umfax_uri_type uri_type;
	int extension_digits;             /* 1..20 */
	const char *phone_context;        /* "" when not set */
	const char *country_code;         /* digits, "" when not set */
	int fax_enabled;
	const struct umfax_iprange *gateways;
	size_t ngateways;
	const char *gateways_text;        /* as written, "" when none */
	int line;                         /* line of the "dialplan" header */
};

struct umfax_policy {
	const char *name;
	const struct umfax_dialplan *dialplan;
	int allow_fax;
	const char *fax_server_uri;       /* as written, "" when not set */
	const char *fax_uri;              /* the first ';'-separated entry: the one used */
	const char *fax_message_text;     /* "" when not set */
	int line;
};

struct umfax_mailbox {
	const char *alias;
	const char *smtp;                 /* primary SMTP address */
	const char *display_name;         /* "" when not set */
	const struct umfax_policy *policy;
	int fax_enabled;
	const char *const *extensions;  size_t nextensions;
	const char *const *e164;        size_t ne164;       /* "+14255551234" */
	const char *const *sip;         size_t nsip;        /* "tony@contoso.com" */
	int line;
};

struct umfax_dir_index;               /* the hash tables (private) */
struct umfax_dir_arena;               /* string and array storage (private) */

struct umfax_dir {
	char path[4096];                  /* file loaded ("" for parsed buffers) */
	struct umfax_dialplan *dialplans;  size_t ndialplans;
	struct umfax_policy *policies;     size_t npolicies;
	struct umfax_mailbox *mailboxes;   size_t nmailboxes;
	int nwarnings;
	/* Called for every warning and error while loading (severity "warning"
	 * or "error", MSG "FILE:LINE: text"); NULL: warnings go to umfax_log. */
	void (*diag)(void *arg, const char *severity, const char *msg);
	void *diag_arg;
	/* private */
	struct umfax_dir_index *ix;
	struct umfax_dir_arena *arena;
	dev_t dev; ino_t ino; off_t size; struct timespec mtime;
};

void umfax_dir_init(struct umfax_dir *d);      /* empty directory, diag NULL */
void umfax_dir_release(struct umfax_dir *d);   /* frees all; re-inits (keeps diag) */

/* Load PATH (NULL: the directory_file setting, else the default).  The whole
 * file is validated: the error of the lowest line is in ERR
 * ("directory.conf:12: policy contoso-fax: allow-fax = true needs a
 * fax-server-uri"); every error and warning goes to d->diag, in line order
 * (at most 100, then a count).  On error D is left empty.  0, or -1 (file
 * errors: errno is set and ERR says so; validation errors: errno = EINVAL). */
int umfax_dir_load(struct umfax_dir *d, const char *path, char *err, size_t errlen);

/* Parse a file image (tests, fuzzing, validating an edit).  NAME in errors. */
int umfax_dir_parse(struct umfax_dir *d, const char *name, const char *buf, size_t len,
    char *err, size_t errlen);

/* Reload D from its path if the file changed (inode, size or mtime).  The old
 * directory stays in place when the new file is bad.  1 reloaded, 0 unchanged,
 * -1 error (ERR; D unchanged). */
int umfax_dir_reload(struct umfax_dir *d, char *err, size_t errlen);

/* Objects by name (case-insensitive), or NULL. */
const struct umfax_dialplan *umfax_dir_dialplan(const struct umfax_dir *d, const char *name);
const struct umfax_policy *umfax_dir_policy(const struct umfax_dir *d, const char *name);
const struct umfax_mailbox *umfax_dir_mailbox(const struct umfax_dir *d, const char *alias);
/* A mailbox by its primary SMTP address ("smtp:" prefix allowed), or NULL. */
const struct umfax_mailbox *umfax_dir_mailbox_smtp(const struct umfax_dir *d, const char *addr);

/* Where to look.  Any field may be NULL; they are tried in this order and the
 * first that names a mailbox wins:
 *   recipient     Referred-By's msExchUMFaxRecipient or a job's Recipient:
 *                 "smtp:tony@contoso.com", "tony@contoso.com" (primary SMTP
 *                 address, then SIP address);
 *   diversion     a Diversion header value, one or several comma-separated
 *                 entries ("<sip:1234@gw;user=phone>;reason=no-answer"), tried
 *                 top (most recent) first;
 *   history_info  a History-Info value, entries tried from the last index
 *                 back ("<sip:+14255551234@gw?Reason=...>;index=1.1");
 *   called        the called number: To / Request-URI / a job's Called field:
 *                 "1234", "+1 (425) 555-1234", "tel:+14255551234",
 *                 "sip:1234@gw;user=phone", "<sip:tony@contoso.com>", "tony".
 * A number is matched by each dial plan's uri-type (in file order): telextn
 * takes its last extension-digits digits and looks up the extension; e164
 * looks up the E.164 address ('+' added, and country-code when the number is
 * shorter); sipname and non-numbers look up SIP addresses (user@host exactly,
 * else the user part alone when exactly one mailbox has it).  A "+" number is
 * first looked up among all E.164 addresses. */
struct umfax_dir_query {
	const char *recipient;
	const char *diversion;
	const char *history_info;
	const char *called;
	const char *dialplan;               /* only mailboxes of this dial plan, or NULL */
	const struct sockaddr *gateway;     /* if set: the dial plans that list it are searched
	                                     * first, and the mailbox's dial plan must list it */
	socklen_t gateway_len;
};

enum umfax_dir_verdict {
	UMFAX_DIR_ALLOW = 0,
	UMFAX_DIR_NOT_FOUND,        /* no mailbox (reason says what was looked up) */
	UMFAX_DIR_DENY_GATEWAY,     /* dialplan NAME: gateways does not list the peer */
	UMFAX_DIR_DENY_DIALPLAN,    /* dialplan NAME: fax-enabled = false */
	UMFAX_DIR_DENY_POLICY,      /* policy NAME: allow-fax = false */
	UMFAX_DIR_DENY_MAILBOX,     /* mailbox ALIAS: fax-enabled = false */
	UMFAX_DIR_DENY_NO_URI       /* policy NAME: fax-server-uri is not set */
};

/* Bits of res.denied: every condition that said no (the verdict is the first
 * in the order gateway, dial plan, policy, mailbox, URI). */
#define UMFAX_DIR_NO_GATEWAY   0x01
#define UMFAX_DIR_NO_DIALPLAN  0x02
#define UMFAX_DIR_NO_POLICY    0x04
#define UMFAX_DIR_NO_MAILBOX   0x08
#define UMFAX_DIR_NO_URI       0x10

struct umfax_dir_result {
	enum umfax_dir_verdict verdict;
	unsigned denied;                      /* UMFAX_DIR_NO_* bits */
	const struct umfax_mailbox *mailbox;  /* NULL when not found */
	const struct umfax_policy *policy;
	const struct umfax_dialplan *dialplan;
	const char *fax_uri;                  /* policy's first fax-server-uri entry, or NULL */
	const char *source;                   /* "recipient", "diversion", "history-info", "called" */
	char matched[128];                    /* the address that matched: "1234", "+14255551234", "tony@contoso.com" */
	char extension[32];                   /* the mailbox's extension in its dial plan ("" if none) */
	/* One line naming who said no, for Deny-Reason and SIP Warning:
	 * "dialplan contoso-dp: fax-enabled = false; mailbox bob: fax-enabled = false",
	 * or for NOT_FOUND: "no mailbox for called 9999 (dialplan contoso-dp: telextn, 4 digits)".
	 * "" when allowed. */
	char reason[512];
};

/* Find the mailbox for Q and apply the fax rule (dial plan fax-enabled AND
 * policy allow-fax AND mailbox fax-enabled AND the policy has a fax-server-uri,
 * and the gateway if Q has one).  Fills R; returns R->verdict. */
enum umfax_dir_verdict umfax_dir_resolve(const struct umfax_dir *d,
    const struct umfax_dir_query *q, struct umfax_dir_result *r);

/* Only the lookup: the mailbox that ADDR (any form "called" takes) names, in
 * dial plan DIALPLAN or any (NULL).  EXT (size N, may be NULL) gets the
 * extension matched.  NULL when none. */
const struct umfax_mailbox *umfax_dir_lookup(const struct umfax_dir *d,
    const char *dialplan, const char *addr, char *ext, size_t n);

/* Only the rule, for a mailbox already found: fills R (mailbox, policy, dial
 * plan, fax_uri, verdict, denied, reason) and returns the verdict. */
enum umfax_dir_verdict umfax_dir_check(const struct umfax_mailbox *m,
    struct umfax_dir_result *r);

/* Short name of a verdict: "allow", "not-found", "deny-gateway", ... */
const char *umfax_dir_verdict_name(enum umfax_dir_verdict v);

/* Gateways.  Parse one entry ("192.0.2.1", "192.0.2.1-192.0.2.9", "10.0.0.0/8",
 * "::1", "2001:db8::/32"; IPv6 may be in [brackets]).  0 or -1. */
int umfax_iprange_parse(const char *text, struct umfax_iprange *r);
/* 1 if SA (AF_INET or AF_INET6; v4-mapped v6 addresses match IPv4 entries)
 * is in R. */
int umfax_iprange_match(const struct umfax_iprange *r, const struct sockaddr *sa,
    socklen_t salen);
/* 1 if dial plan DP lists SA among its gateways. */
int umfax_dialplan_gateway_ok(const struct umfax_dialplan *dp,
    const struct sockaddr *sa, socklen_t salen);
/* The first dial plan (file order) whose gateways list SA, or NULL: a peer
 * that no dial plan lists should get 403. */
const struct umfax_dialplan *umfax_dir_gateway(const struct umfax_dir *d,
    const struct sockaddr *sa, socklen_t salen);

/* Helpers that sipredirect and t38recv may share. */
/* Validate a FaxServerURI value: "sip:host:port;transport=udp|tcp|tls", only
 * the first ';'-separated entry after the transport is used.  Copies that
 * first entry into FIRST (size N, may be NULL).  Returns 0 ok, 1 ok but more
 * than one entry (warn), -1 bad (WHY, size WN, says what). */
int umfax_dir_faxuri_check(const char *uri, char *first, size_t n, char *why, size_t wn);
/* The number or name of a SIP/tel URI or header value: strips <>, display
 * name, "sip:"/"sips:"/"tel:", parameters and host; "user@host" is kept in
 * HOSTOUT (may be NULL).  "+1 (425) 555-1234" -> "+14255551234" when numeric.
 * 0, or -1 when nothing usable. */
int umfax_dir_addr_user(const char *addr, char *user, size_t n, char *userhost, size_t hn);

const char *umfax_uri_type_name(enum umfax_uri_type t);   /* "telextn" ... */

/* The field names of an object KIND ("dialplan", "policy", "mailbox"), in
 * the documented order, NULL-terminated; NULL for an unknown kind. */
const char *const *umfax_dir_fields(const char *kind);

#endif

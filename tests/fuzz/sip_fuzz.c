/* sip_fuzz - every SIP parser sipredirect uses, in memory: the request
 * parser and the whole answer path (directory decision, 302/4xx/6xx
 * formatting), the ACK transaction key, URI user extraction, TCP framing and
 * the listen address parser, and the refer-mode dialog layer (requests and
 * responses, SDP T.38 and G.711 fax profile detection, the telephone-event
 * payload type), and the fax detector on RTP: the input as an RTP datagram
 * to the dialogs' detectors and to a detector of its own (RTP header,
 * telephone-event payload, G.711 decoding into spandsp's CNG detector).  The first input byte picks the source address
 * (a gateway or a stranger) so that both paths are reached. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "directory.h"
#include "faxdetect.h"
#include "log.h"
#include "sipmsg.h"
#include "sipredir.h"
#include "siprefer.h"
#include "sipsrv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char dirtext[] =
    "dialplan dp\n    uri-type = telextn\n    extension-digits = 4\n"
    "    phone-context = dp.test\n    gateways = 127.0.0.1, ::1\n"
    "dialplan e164\n    uri-type = e164\n    extension-digits = 10\n    country-code = 1\n"
    "    gateways = 127.0.0.1\n"
    "policy fax\n    dialplan = dp\n    allow-fax = true\n"
    "    fax-server-uri = sip:127.0.0.1:5090;transport=tcp\n"
    "policy nofax\n    dialplan = dp\n"
    "policy efax\n    dialplan = e164\n    allow-fax = true\n"
    "    fax-server-uri = sip:fax.test:5060;transport=udp\n"
    "mailbox tony\n    primary-smtp-address = tony@fax.test\n    policy = fax\n"
    "    extensions = 1234\n    sip-addresses = tony@fax.test\n"
    "mailbox bob\n    primary-smtp-address = bob@fax.test\n    policy = nofax\n    extensions = 1236\n"
    "mailbox eve\n    primary-smtp-address = eve@fax.test\n    policy = efax\n"
    "    extensions = 4255551234\n    e164-addresses = +14255551234\n";

static struct umfax_dir dir;
static struct umfax_sipredir red;
static struct umfax_siprefer *refer;
static struct umfax_faxdetect det;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	setenv("UMFAX_LOG_STDERR", "0", 1);
	setenv("UMFAX_LOG_SYSLOG", "0", 1);
	umfax_log_init("sip_fuzz");
	umfax_sip_init();
	umfax_dir_init(&dir);
	if (umfax_dir_parse(&dir, "fuzz.conf", dirtext, sizeof dirtext - 1, err, sizeof err) != 0) {
		fprintf(stderr, "sip_fuzz: %s\n", err);
		abort();
	}
	umfax_sipredir_init(&red, &dir);
	{
		/* refer mode: sends go to fd -1 and fail quietly; a spool that
		 * cannot be opened keeps missed-call jobs off the disk */
		struct umfax_siprefer_cfg rc;
		umfax_siprefer_cfg_init(&rc);
		rc.max_dialogs = 8;
		rc.spool = "/nonexistent/umfax-sip-fuzz";
		rc.detect_always = 1;
		refer = umfax_siprefer_new(&red, &rc);
		if (!refer)
			abort();
	}
	if (umfax_faxdetect_init(&det, 101) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[16384];
	struct sockaddr_in sa;
	char *buf, m[32], key[512], user[128];
	struct umfax_sipsrv_listen ls[UMFAX_SIPSRV_MAX_LISTEN];

	if (size < 1 || size > UMFAX_SIP_MAX_MSG)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(5060);
	sa.sin_addr.s_addr = htonl((data[0] & 1) ? 0x7f000001 : 0x7f000002);
	/* a NUL-terminated copy, exactly as the server hands it over */
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';

	(void)umfax_sipredir_answer(&red, buf, size - 1, (struct sockaddr *)&sa, sizeof sa,
	    out, sizeof out, NULL);
	(void)umfax_sipredir_key(buf, size - 1, m, sizeof m, key, sizeof key);
	(void)umfax_sipsrv_frame_len(buf, size - 1);
	(void)umfax_sip_fast_key(buf, size - 1, key, sizeof key);
	(void)umfax_sip_sdp_is_t38(buf, size - 1);
	umfax_siprefer_input(refer, -1, buf, size - 1, (struct sockaddr *)&sa, sizeof sa);
	if (data[0] & 4)        /* as from a TCP connection (sends fail: no server) */
		umfax_siprefer_input_tcp(refer, 0, 1, buf, size - 1, (struct sockaddr *)&sa, sizeof sa);
	(void)umfax_siprefer_timers(refer);
	(void)umfax_faxdetect_sdp_te_pt(buf, size - 1);
	(void)umfax_faxdetect_sdp_g711_fax(buf, size - 1);
	/* the same bytes as RTP, from the gateway's SDP port and another */
	sa.sin_port = htons((data[0] & 2) ? 30000 : 30002);
	umfax_siprefer_media_input(refer, data + 1, size - 1, (struct sockaddr *)&sa, sizeof sa);
	if (umfax_faxdetect_packet(&det, data + 1, size - 1) > 0) {
		umfax_faxdetect_release(&det);  /* start over for the next input */
		if (umfax_faxdetect_init(&det, 101) != 0)
			abort();
	}
	if (size < 600) {
		(void)umfax_sip_uri_user(buf, user, sizeof user);
		{
			char err[128];
			(void)umfax_sipsrv_parse_listen(buf, ls, 0, UMFAX_SIPSRV_MAX_LISTEN, err, sizeof err);
		}
	}
	free(buf);
	return 0;
}

/* t38replay_test - a whole call rebuilt in memory: SIP over TCP (INVITE split
 * across two segments, with the Exchange UM Referred-By hand-off) and the
 * T.38 version 3 media of syn_t38udp_v3_ecm_v17_3p.pcap moved to IPv6, some
 * datagrams in IPv6 fragments that arrive last-first.  The replay must find
 * the call, take the version from SDP, decode the 3 pages and fill in the
 * call's headers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "pcapsrc.h"
#include "t38dec.h"
#include "t38replay.h"
#include "t.h"

static uint8_t *cap;
static size_t clen, ccap;

static void put(const void *p, size_t n)
{
	if (clen + n > ccap) {
		ccap = (clen + n) * 2;
		cap = realloc(cap, ccap);
		if (!cap)
			exit(2);
	}
	memcpy(cap + clen, p, n);
	clen += n;
}
static void put32(uint32_t v) { uint8_t b[4] = { (uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16), (uint8_t) (v >> 24) }; put(b, 4); }
static void put16(uint16_t v) { uint8_t b[2] = { (uint8_t) v, (uint8_t) (v >> 8) }; put(b, 2); }

static void record(double t, const uint8_t *f, size_t n)
{
	put32((uint32_t) t);
	put32((uint32_t) ((t - (double) (uint32_t) t) * 1e6));
	put32((uint32_t) n);
	put32((uint32_t) n);
	put(f, n);
}

static const uint8_t A1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };   /* fax sender */
static const uint8_t A2[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };   /* fax receiver */

/* IPv6 header for PAYLOAD bytes of protocol NH. */
static size_t ip6(uint8_t *f, const uint8_t *src, const uint8_t *dst, int nh, size_t payload)
{
	memset(f, 0, 40);
	f[0] = 0x60;
	f[4] = (uint8_t) (payload >> 8);
	f[5] = (uint8_t) payload;
	f[6] = (uint8_t) nh;
	f[7] = 64;
	memcpy(f + 8, src, 16);
	memcpy(f + 24, dst, 16);
	return 40;
}

static void udp6(double t, const uint8_t *src, const uint8_t *dst, int sp, int dp,
    const uint8_t *pl, size_t n, int fragment, uint32_t id)
{
	uint8_t u[2048], f[2200];
	size_t ul = 8 + n;
	u[0] = (uint8_t) (sp >> 8); u[1] = (uint8_t) sp; u[2] = (uint8_t) (dp >> 8); u[3] = (uint8_t) dp;
	u[4] = (uint8_t) (ul >> 8); u[5] = (uint8_t) ul; u[6] = 0; u[7] = 0;
	memcpy(u + 8, pl, n);
	if (!fragment || ul < 24) {
		size_t o = ip6(f, src, dst, 17, ul);
		memcpy(f + o, u, ul);
		record(t, f, o + ul);
		return;
	}
	size_t first = (ul / 2) & ~(size_t) 7;
	/* the second fragment first */
	for (int part = 1; part >= 0; part--) {
		size_t off = part ? first : 0, len = part ? ul - first : first;
		size_t o = ip6(f, src, dst, 44, 8 + len);
		f[o] = 17;
		f[o + 1] = 0;
		uint16_t fo = (uint16_t) (off | (part ? 0 : 1));
		f[o + 2] = (uint8_t) (fo >> 8);
		f[o + 3] = (uint8_t) fo;
		f[o + 4] = (uint8_t) (id >> 24); f[o + 5] = (uint8_t) (id >> 16);
		f[o + 6] = (uint8_t) (id >> 8); f[o + 7] = (uint8_t) id;
		memcpy(f + o + 8, u + off, len);
		record(t, f, o + 8 + len);
	}
}

static void tcp6(double t, const uint8_t *src, const uint8_t *dst, int sp, int dp, uint32_t seq,
    uint8_t flags, const char *pl, size_t n)
{
	uint8_t f[4096];
	size_t o = ip6(f, src, dst, 6, 20 + n);
	uint8_t *h = f + o;
	memset(h, 0, 20);
	h[0] = (uint8_t) (sp >> 8); h[1] = (uint8_t) sp; h[2] = (uint8_t) (dp >> 8); h[3] = (uint8_t) dp;
	h[4] = (uint8_t) (seq >> 24); h[5] = (uint8_t) (seq >> 16); h[6] = (uint8_t) (seq >> 8); h[7] = (uint8_t) seq;
	h[12] = 5 << 4;
	h[13] = flags;
	memcpy(h + 20, pl, n);
	record(t, f, o + 20 + n);
}

struct got {
	int n;
	struct umfax_replay_fax fx;
	struct umfax_faxinfo tiff;
};

static int collect(void *arg, const struct umfax_replay_fax *fx)
{
	struct got *g = arg;
	if (g->n++ == 0) {
		g->fx = *fx;
		memset(&g->tiff, 0, sizeof(g->tiff));
		if (fx->tiff_path) {
			umfax_t38dec_tiff_info(fx->tiff_path, &g->tiff);
		}
	}
	return 0;
}

static const char invite_sdp[] =
    "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n"
    "m=image 30000 udptl t38\r\na=T38FaxVersion:3\r\na=T38FaxMaxDatagram:400\r\n"
    "a=T38FaxUdpEC:t38UDPRedundancy\r\n";
static const char ok_sdp[] =
    "v=0\r\no=- 2 1 IN IP6 2001:db8::2\r\ns=-\r\nc=IN IP6 2001:db8::2\r\nt=0 0\r\n"
    "m=image 40000 udptl t38\r\na=T38FaxVersion:3\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n";

int main(void)
{
	char path[1024], err[256], msg[2048];
	const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
	setenv("UMFAX_LOG_STDERR", "0", 1);
	setenv("UMFAX_LOG_SYSLOG", "0", 1);
	umfax_log_init("t38replay_test");
	snprintf(path, sizeof(path), "%s/data/captures/syn_t38udp_v3_ecm_v17_3p.pcap", shared);
	struct umfax_pcapsrc *src = umfax_pcapsrc_open(path, err, sizeof(err));
	T_CHECK(src != NULL, "open %s: %s", path, err);
	if (!src)
		return T_DONE();

	/* pcap header, raw IP */
	put32(0xa1b2c3d4); put16(2); put16(4); put32(0); put32(0); put32(65535); put32(101);

	struct umfax_pkt p;
	int first = 1, n = 0, frags = 0;
	while (umfax_pcapsrc_next(src, &p, err, sizeof(err)) == 1) {
		if (p.proto != UMFAX_PKT_UDP || p.sport == 5060 || p.dport == 5060)
			continue;
		if (first) {
			/* SIP over TCP, just before the media */
			first = 0;
			double t = p.t - 0.5;
			int l = snprintf(msg, sizeof(msg),
			    "INVITE sip:+14255551234@[2001:db8::2] SIP/2.0\r\n"
			    "Via: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK1\r\n"
			    "From: \"Contoso Front Desk\" <sip:+14255550100@gw1.contoso.com>;tag=a\r\n"
			    "To: <sip:+14255551234@fax.contoso.com>\r\n"
			    "Call-ID: replay-test@gw1\r\nCSeq: 1 INVITE\r\n"
			    "Referred-By: <sip:um1.contoso.com;msExchUMFaxRecipient=smtp:tony%%40contoso.com;"
			    "msExchUMContext=Q2FsbElkPTE%%3D>\r\n"
			    "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
			    strlen(invite_sdp), invite_sdp);
			tcp6(t - 0.01, A1, A2, 45000, 5060, 999, 0x02, "", 0);
			tcp6(t, A1, A2, 45000, 5060, 1000, 0x18, msg, 100);
			tcp6(t + 0.001, A1, A2, 45000, 5060, 1100, 0x18, msg + 100, (size_t) l - 100);
			l = snprintf(msg, sizeof(msg),
			    "SIP/2.0 200 OK\r\nCall-ID: replay-test@gw1\r\nCSeq: 1 INVITE\r\n"
			    "From: <sip:+14255550100@gw1.contoso.com>;tag=a\r\nTo: <sip:+14255551234@fax>;tag=b\r\n"
			    "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s", strlen(ok_sdp), ok_sdp);
			tcp6(t + 0.1, A2, A1, 5060, 45000, 5000, 0x18, msg, (size_t) l);
		}
		int from_sender = p.sport == 30000;
		int frag = from_sender && p.len > 40 && n % 10 == 3;
		frags += frag;
		udp6(p.t, from_sender ? A1 : A2, from_sender ? A2 : A1, p.sport, p.dport, p.data, p.len, frag, (uint32_t) n);
		n++;
	}
	umfax_pcapsrc_close(src);
	T_CHECK(n > 1000 && frags > 50, "rebuilt %d datagrams, %d fragmented", n, frags);

	struct umfax_replay_opts o = { .t38_version = -1 };
	struct got g = { 0 };
	int rc = umfax_replay_mem(cap, clen, &o, collect, &g, err, sizeof(err));
	T_CHECK(rc == 0 && g.n == 1, "one fax: rc %d, %d faxes, %s", rc, g.n, err);
	if (g.n == 1) {
		T_CHECK(g.fx.info.pages == 3 && g.fx.info.status == UMFAX_FAX_COMPLETE, "3 pages complete: %d %d",
		    g.fx.info.pages, g.fx.info.status);
		T_CHECK(g.tiff.pages == 3 && g.tiff.width == 1728, "TIFF: %d pages, width %d", g.tiff.pages, g.tiff.width);
		T_CHECK(g.fx.t38_version == 3, "version %d", g.fx.t38_version);
		T_STREQ(g.fx.version_from, "sdp", "version from SDP");
		T_STREQ(g.fx.call_id, "replay-test@gw1", "call id");
		T_STREQ(g.fx.caller, "+14255550100", "caller");
		T_STREQ(g.fx.caller_name, "Contoso Front Desk", "caller name");
		T_STREQ(g.fx.called, "+14255551234", "called");
		T_STREQ(g.fx.recipient, "tony@contoso.com", "recipient from Referred-By");
		T_STREQ(g.fx.um_context, "Q2FsbElkPTE=", "UM context %%-decoded");
		T_STREQ(g.fx.transport, "t38-udptl", "transport");
		T_STREQ(g.fx.sender, "[2001:db8::1]:30000", "sender endpoint");
		T_STREQ(g.fx.info.remote_ident, "+1 555 0100", "TSI");
	}

	/* forcing the wrong version must not give the same good result */
	o.t38_version = 0;
	memset(&g, 0, sizeof(g));
	umfax_replay_mem(cap, clen, &o, collect, &g, err, sizeof(err));
	T_CHECK(g.n == 0 || g.fx.info.pages < 3 || g.fx.info.status != UMFAX_FAX_COMPLETE,
	    "v3 decoded as v0 fails (pitfall 1): %d faxes", g.n);

	/* selection */
	o.t38_version = -1;
	o.call_id = "another-call";
	memset(&g, 0, sizeof(g));
	umfax_replay_mem(cap, clen, &o, collect, &g, err, sizeof(err));
	T_CHECK(g.n == 0, "--call-id of another call: %d faxes", g.n);
	o.call_id = NULL;
	o.host = "2001:db8::9";
	memset(&g, 0, sizeof(g));
	umfax_replay_mem(cap, clen, &o, collect, &g, err, sizeof(err));
	T_CHECK(g.n == 0, "--host of nobody: %d faxes", g.n);
	o.host = "2001:db8::2";
	o.port = 40000;
	memset(&g, 0, sizeof(g));
	umfax_replay_mem(cap, clen, &o, collect, &g, err, sizeof(err));
	T_CHECK(g.n == 1, "--host/--port of the receiver: %d faxes", g.n);

	/* the same capture cut in the middle: what arrived is kept, as incomplete */
	o.host = NULL;
	o.port = 0;
	memset(&g, 0, sizeof(g));
	umfax_replay_mem(cap, clen * 2 / 3, &o, collect, &g, err, sizeof(err));
	T_CHECK(g.n == 1 && g.fx.info.pages >= 1 && g.fx.info.status == UMFAX_FAX_INCOMPLETE,
	    "cut capture: %d faxes, %d pages, status %d", g.n, g.n ? g.fx.info.pages : -1, g.n ? g.fx.info.status : -1);
	free(cap);
	return T_DONE();
}

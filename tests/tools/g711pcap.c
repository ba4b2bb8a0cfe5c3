/* g711pcap - decode a recorded G.711 fax call from a capture file with the
 * passive decoder (lib/g711call), for tests.
 *
 *   g711pcap [-v] [-L N] [-p PORT] [-s ADDR:PORT -d ADDR:PORT] CAPTURE OUT.tif
 *   g711pcap [-v] -w DIR0.wav[,DIR1.wav] OUT.tif
 *
 * Reads Ethernet (optionally one VLAN tag), Linux cooked (SLL), raw IP and
 * BSD loopback captures; IPv4 UDP only, no fragments.  The two directions
 * are the UDP flow SRC->DST and its reverse.  Without -s/-d the flow with
 * the most G.711 RTP packets is taken (with -p, only flows using PORT).
 * Prints what the decoder found as key=value lines; -v also prints the
 * T.30 frame log.  -L N drops every Nth datagram of the call (loss test).
 * With -w the input is one or two WAV files (8 kHz mono,
 * A-law, u-law or 16-bit PCM), cut into 20 ms RTP packets, one file per
 * direction (a single file may hold both sides mixed).  Exit 0 when the capture was read, 65 for a bad capture,
 * 64 for usage, 66 when it cannot be opened. */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <spandsp.h>

#include "g711call.h"
#include "rtp.h"

#define MAX_FLOWS 256

struct flow {
	uint32_t sip, dip;
	uint16_t sport, dport;
	unsigned long rtp;        /* G.711 RTP packets */
};

struct udp {
	uint32_t sip, dip;
	uint16_t sport, dport;
	const uint8_t *data;
	size_t len;
};

static int verbose;

/* Find the UDP payload of one captured frame.  1 found, 0 not UDP/IPv4. */
static int get_udp(int linktype, const uint8_t *p, size_t caplen, size_t wirelen, struct udp *u)
{
	size_t off, ihl, iplen, ulen;
	unsigned type;

	if (caplen < wirelen)
		return 0;   /* truncated frame */
	switch (linktype) {
	case DLT_EN10MB:
		if (caplen < 14)
			return 0;
		type = (unsigned) (p[12] << 8 | p[13]);
		off = 14;
		if (type == 0x8100 && caplen >= 18) {
			type = (unsigned) (p[16] << 8 | p[17]);
			off = 18;
		}
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return 0;
		type = (unsigned) (p[14] << 8 | p[15]);
		off = 16;
		break;
	case DLT_RAW:
		type = 0x0800;
		off = 0;
		break;
	case DLT_NULL:
		if (caplen < 4)
			return 0;
		type = (p[0] == 2 || p[3] == 2) ? 0x0800 : 0;
		off = 4;
		break;
	default:
		return 0;
	}
	if (type != 0x0800 || caplen < off + 20)
		return 0;
	p += off;
	caplen -= off;
	if ((p[0] >> 4) != 4 || p[9] != 17)
		return 0;
	ihl = (size_t) (p[0] & 0x0F) * 4;
	iplen = (size_t) (p[2] << 8 | p[3]);
	if (ihl < 20 || iplen < ihl + 8 || iplen > caplen)
		return 0;
	if ((p[6] & 0x3F) != 0 || p[7] != 0)
		return 0;   /* fragment */
	memcpy(&u->sip, p + 12, 4);
	memcpy(&u->dip, p + 16, 4);
	p += ihl;
	u->sport = (uint16_t) (p[0] << 8 | p[1]);
	u->dport = (uint16_t) (p[2] << 8 | p[3]);
	ulen = (size_t) (p[4] << 8 | p[5]);
	if (ulen < 8 || ulen > iplen - ihl)
		return 0;
	u->data = p + 8;
	u->len = ulen - 8;
	return 1;
}

static int parse_ep(const char *s, uint32_t *ip, uint16_t *port)
{
	char buf[64];
	char *colon;
	struct in_addr a;
	long v;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strrchr(buf, ':');
	if (colon == NULL)
		return -1;
	*colon = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	v = strtol(colon + 1, NULL, 10);
	if (v <= 0 || v > 65535)
		return -1;
	*ip = a.s_addr;
	*port = (uint16_t) v;
	return 0;
}

static const char *ep_str(uint32_t ip, uint16_t port, char *buf, size_t n)
{
	struct in_addr a;
	char ab[INET_ADDRSTRLEN];

	a.s_addr = ip;
	inet_ntop(AF_INET, &a, ab, sizeof(ab));
	snprintf(buf, n, "%s:%u", ab, port);
	return buf;
}

static void frame_log(void *arg, int dir, double t, const char *text)
{
	(void) arg;
	printf("frame t=%.3f dir=%d %s\n", t, dir, text);
}

static int is_g711_rtp(const struct udp *u)
{
	struct umfax_rtp_hdr h;

	if (umfax_rtp_parse(u->data, u->len, &h) < 0)
		return 0;
	return (h.pt == UMFAX_RTP_PT_PCMU || h.pt == UMFAX_RTP_PT_PCMA) && h.payload_len >= 40;
}

/* A WAV file as G.711: PT 8 or 0 in *PT, samples in *DATA (malloc'd). */
static int read_wav(const char *path, int *pt, uint8_t **data, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t hdr[12], ch[8];
	int fmt = -1, bits = 0, chans = 0;
	long rate = 0;

	*data = NULL;
	if (f == NULL) {
		perror(path);
		return -1;
	}
	if (fread(hdr, 1, 12, f) != 12 || memcmp(hdr, "RIFF", 4) || memcmp(hdr + 8, "WAVE", 4))
		goto bad;
	while (fread(ch, 1, 8, f) == 8) {
		size_t len = (size_t) ch[4] | (size_t) ch[5] << 8 | (size_t) ch[6] << 16 | (size_t) ch[7] << 24;

		if (memcmp(ch, "fmt ", 4) == 0 && len >= 16 && len < 64) {
			uint8_t b[64];

			if (fread(b, 1, len + (len & 1), f) != len + (len & 1))
				goto bad;
			fmt = b[0] | b[1] << 8;
			chans = b[2] | b[3] << 8;
			rate = (long) (b[4] | b[5] << 8 | b[6] << 16 | (long) b[7] << 24);
			bits = b[14] | b[15] << 8;
		} else if (memcmp(ch, "data", 4) == 0) {
			size_t i, got;

			if (chans != 1 || rate != 8000 || (!((fmt == 6 || fmt == 7) && bits == 8) && !(fmt == 1 && bits == 16)))
				goto bad;
			*data = malloc(len ? len : 1);
			if (*data == NULL)
				goto bad;
			got = fread(*data, 1, len, f);
			*pt = fmt == 7 ? UMFAX_RTP_PT_PCMU : UMFAX_RTP_PT_PCMA;
			*n = got;
			if (fmt == 1) {
				*n = got / 2;
				for (i = 0; i < *n; i++)
					(*data)[i] = linear_to_alaw((int16_t) ((*data)[2 * i] | (*data)[2 * i + 1] << 8));
			}
			fclose(f);
			return 0;
		} else if (fseek(f, (long) (len + (len & 1)), SEEK_CUR) != 0) {
			goto bad;
		}
	}
bad:
	fprintf(stderr, "g711pcap: %s: not an 8 kHz mono A-law, u-law or 16-bit WAV file\n", path);
	free(*data);
	*data = NULL;
	fclose(f);
	return -1;
}

/* Play one or two WAV files as the two directions of a call. */
static int decode_wav(char *list, struct umfax_g711call *c)
{
	uint8_t *data[2] = { NULL, NULL };
	size_t n[2] = { 0, 0 }, off;
	int pt[2] = { 8, 8 }, nd = 1, d;
	char *comma = strchr(list, ',');
	uint16_t seq = 0;

	if (comma != NULL) {
		*comma = '\0';
		nd = 2;
	}
	if (read_wav(list, &pt[0], &data[0], &n[0]) < 0)
		return -1;
	if (nd == 2 && read_wav(comma + 1, &pt[1], &data[1], &n[1]) < 0) {
		free(data[0]);
		return -1;
	}
	for (off = 0; off < n[0] || off < n[1]; off += 160, seq++) {
		for (d = 0; d < nd; d++) {
			uint8_t pkt[12 + 160];
			size_t k = off < n[d] ? n[d] - off : 0;

			if (k == 0)
				continue;
			if (k > 160)
				k = 160;
			memset(pkt, 0, 12);
			pkt[0] = 0x80;
			pkt[1] = (uint8_t) pt[d];
			pkt[2] = (uint8_t) (seq >> 8);
			pkt[3] = (uint8_t) seq;
			pkt[4] = (uint8_t) (off >> 24);
			pkt[5] = (uint8_t) (off >> 16);
			pkt[6] = (uint8_t) (off >> 8);
			pkt[7] = (uint8_t) off;
			pkt[11] = (uint8_t) (d + 1);
			memcpy(pkt + 12, data[d] + off, k);
			umfax_g711call_packet(c, d, (double) off / 8000.0, pkt, 12 + k);
		}
	}
	free(data[0]);
	free(data[1]);
	return 0;
}

static void print_info(struct umfax_g711call *c, struct umfax_faxinfo *info)
{
	printf("is_fax=%d\n", umfax_g711call_is_fax(c));
	printf("status=%d\npages=%d\nwidth=%d\nlength=%d\nx_res=%d\ny_res=%d\n",
	    info->status, info->pages, info->width, info->length, info->x_res, info->y_res);
	printf("modem=%s\nbit_rate=%d\necm=%d\ncompression=%s\nbad_rows=%d\n",
	    info->modem, info->bit_rate, info->ecm, info->compression, info->bad_rows);
	printf("remote_ident=%s\nlocal_ident=%s\nduration=%.1f\nt30_code=%d\nt30_result=%s\n",
	    info->remote_ident, info->local_ident, info->duration, info->t30_code, info->t30_result);
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct flow flows[MAX_FLOWS];
	int nflows = 0, opt, i, best = -1, linktype;
	long want_port = -1;
	const char *src = NULL, *dst = NULL;
	uint32_t aip = 0, bip = 0;
	uint16_t aport = 0, bport = 0;
	pcap_t *pc;
	struct pcap_pkthdr *ph;
	const uint8_t *pkt;
	struct umfax_g711call *c;
	struct umfax_faxinfo info;
	struct udp u;
	unsigned long fed[2] = { 0, 0 };
	char e1[64], e2[64];
	struct timespec t0, t1;
	int r;

	char *wav = NULL;
	long drop_every = 0, seen = 0;

	while ((opt = getopt(argc, argv, "vp:s:d:w:L:")) != -1) {
		switch (opt) {
		case 'v': verbose = 1; break;
		case 'p': want_port = strtol(optarg, NULL, 10); break;
		case 's': src = optarg; break;
		case 'd': dst = optarg; break;
		case 'w': wav = optarg; break;
		case 'L': drop_every = strtol(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (wav != NULL) {
		if (argc - optind != 1)
			goto usage;
		c = umfax_g711call_new(argv[optind]);
		if (c == NULL)
			return 71;
		if (verbose)
			umfax_g711call_set_frame_log(c, frame_log, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (decode_wav(wav, c) < 0) {
			umfax_g711call_free(c);
			return 66;
		}
		r = umfax_g711call_finish(c, &info);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		print_info(c, &info);
		printf("cpu_seconds=%.3f\n", (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
		umfax_g711call_free(c);
		return r < 0 ? 70 : 0;
	}
	if (argc - optind != 2 || (src == NULL) != (dst == NULL))
		goto usage;
	if (src && (parse_ep(src, &aip, &aport) < 0 || parse_ep(dst, &bip, &bport) < 0)) {
		fprintf(stderr, "g711pcap: bad address, want A.B.C.D:PORT\n");
		return 64;
	}

	if (src == NULL) {
		pc = pcap_open_offline(argv[optind], err);
		if (pc == NULL) {
			fprintf(stderr, "g711pcap: %s: %s\n", argv[optind], err);
			return 66;
		}
		linktype = pcap_datalink(pc);
		while ((r = pcap_next_ex(pc, &ph, &pkt)) == 1) {
			if (!get_udp(linktype, pkt, ph->caplen, ph->len, &u) || !is_g711_rtp(&u))
				continue;
			if (want_port >= 0 && u.sport != want_port && u.dport != want_port)
				continue;
			for (i = 0; i < nflows; i++)
				if (flows[i].sip == u.sip && flows[i].dip == u.dip &&
				    flows[i].sport == u.sport && flows[i].dport == u.dport)
					break;
			if (i == nflows) {
				if (nflows == MAX_FLOWS)
					continue;
				flows[i].sip = u.sip;
				flows[i].dip = u.dip;
				flows[i].sport = u.sport;
				flows[i].dport = u.dport;
				flows[i].rtp = 0;
				nflows++;
			}
			flows[i].rtp++;
		}
		if (r == -1) {
			fprintf(stderr, "g711pcap: %s: %s\n", argv[optind], pcap_geterr(pc));
			pcap_close(pc);
			return 65;
		}
		pcap_close(pc);
		for (i = 0; i < nflows; i++)
			if (best < 0 || flows[i].rtp > flows[best].rtp)
				best = i;
		if (best < 0) {
			fprintf(stderr, "g711pcap: %s: no G.711 RTP found\n", argv[optind]);
			printf("is_fax=0\npages=0\n");
			return 0;
		}
		aip = flows[best].sip;
		aport = flows[best].sport;
		bip = flows[best].dip;
		bport = flows[best].dport;
	}
	printf("dir0=%s dir1=%s\n", ep_str(aip, aport, e1, sizeof(e1)), ep_str(bip, bport, e2, sizeof(e2)));

	c = umfax_g711call_new(argv[optind + 1]);
	if (c == NULL) {
		fprintf(stderr, "g711pcap: out of memory\n");
		return 71;
	}
	if (verbose)
		umfax_g711call_set_frame_log(c, frame_log, NULL);
	pc = pcap_open_offline(argv[optind], err);
	if (pc == NULL) {
		fprintf(stderr, "g711pcap: %s: %s\n", argv[optind], err);
		umfax_g711call_free(c);
		return 66;
	}
	linktype = pcap_datalink(pc);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((r = pcap_next_ex(pc, &ph, &pkt)) == 1) {
		double t = (double) ph->ts.tv_sec + (double) ph->ts.tv_usec / 1e6;
		int dir;

		if (!get_udp(linktype, pkt, ph->caplen, ph->len, &u))
			continue;
		if (u.sip == aip && u.sport == aport && u.dip == bip && u.dport == bport)
			dir = 0;
		else if (u.sip == bip && u.sport == bport && u.dip == aip && u.dport == aport)
			dir = 1;
		else
			continue;
		if (drop_every > 0 && ++seen % drop_every == 0)
			continue;
		if (umfax_g711call_packet(c, dir, t, u.data, u.len) == 0)
			fed[dir]++;
	}
	if (r == -1)
		fprintf(stderr, "g711pcap: %s: %s (decoding what was read)\n", argv[optind], pcap_geterr(pc));
	pcap_close(pc);
	r = umfax_g711call_finish(c, &info);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("rtp0=%lu rtp1=%lu\n", fed[0], fed[1]);
	print_info(c, &info);
	printf("cpu_seconds=%.3f\n", (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
	umfax_g711call_free(c);
	return r < 0 ? 70 : 0;
usage:
	fprintf(stderr, "usage: g711pcap [-v] [-L N] [-p PORT] [-s ADDR:PORT -d ADDR:PORT] CAPTURE OUT.tif\n"
	    "       g711pcap [-v] -w DIR0.wav[,DIR1.wav] OUT.tif\n");
	return 64;
}

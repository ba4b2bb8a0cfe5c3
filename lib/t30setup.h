/* t30setup.h - the T.30 side of a spandsp fax session, set up one way for the
 * live sessions (faxsess: answering, or calling in the tests) and the offline
 * decoder of recorded calls (t38dec): the file, our ident, ECM, the modems,
 * compressions, resolutions and page sizes we offer, and the handlers. */
#ifndef UMFAX_T30SETUP_H
#define UMFAX_T30SETUP_H

#include <spandsp.h>

struct umfax_t30_conf {
	int calling;              /* 1: send TIFF, 0: receive into TIFF (T.4 2D) */
	const char *tiff;
	const char *local_ident;  /* our CSI / TSI, may be NULL or "" */
	int ecm;                  /* offer ECM, and with it T.6 (MMR) */
	int fastest;              /* bit/s: V.27ter always, V.29 from 9600, V.17 from 12000 */
	t30_phase_b_handler_t *phase_b;
	t30_phase_d_handler_t *phase_d;
	t30_phase_e_handler_t *phase_e;
	t30_real_time_frame_handler_t *frame;
	void *user;               /* for the four handlers */
};

/* Set up T30 as C says.  Logging is the caller's. */
void umfax_t30_setup(t30_state_t *t30, const struct umfax_t30_conf *c);

#endif

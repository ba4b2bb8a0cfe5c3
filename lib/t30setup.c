/* t30setup.c - one T.30 set-up for the live and the offline fax paths */
#include "t30setup.h"

void umfax_t30_setup(t30_state_t *t30, const struct umfax_t30_conf *c)
{
	int modems = T30_SUPPORT_V27TER;

	if (c->fastest >= 9600)
		modems |= T30_SUPPORT_V29;
	if (c->fastest >= 12000)
		modems |= T30_SUPPORT_V17;
	if (c->calling) {
		t30_set_tx_file(t30, c->tiff, -1, -1);
	} else {
		t30_set_rx_file(t30, c->tiff, -1);
		t30_set_rx_encoding(t30, T4_COMPRESSION_ITU_T4_2D);
	}
	if (c->local_ident && *c->local_ident)
		t30_set_tx_ident(t30, c->local_ident);
	t30_set_ecm_capability(t30, c->ecm ? TRUE : FALSE);
	t30_set_supported_modems(t30, modems);
	t30_set_supported_compressions(t30, T30_SUPPORT_T4_1D_COMPRESSION
	    | T30_SUPPORT_T4_2D_COMPRESSION | (c->ecm ? T30_SUPPORT_T6_COMPRESSION : 0));
	t30_set_supported_resolutions(t30, T30_SUPPORT_STANDARD_RESOLUTION
	    | T30_SUPPORT_FINE_RESOLUTION | T30_SUPPORT_SUPERFINE_RESOLUTION
	    | T30_SUPPORT_R8_RESOLUTION | T30_SUPPORT_R16_RESOLUTION
	    | T30_SUPPORT_300_300_RESOLUTION | T30_SUPPORT_400_400_RESOLUTION
	    | T30_SUPPORT_600_600_RESOLUTION | T30_SUPPORT_1200_1200_RESOLUTION
	    | T30_SUPPORT_300_600_RESOLUTION | T30_SUPPORT_400_800_RESOLUTION
	    | T30_SUPPORT_600_1200_RESOLUTION);
	t30_set_supported_image_sizes(t30, T30_SUPPORT_US_LETTER_LENGTH
	    | T30_SUPPORT_US_LEGAL_LENGTH | T30_SUPPORT_UNLIMITED_LENGTH
	    | T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH | T30_SUPPORT_303MM_WIDTH
	    | T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH);
	t30_set_phase_b_handler(t30, c->phase_b, c->user);
	t30_set_phase_d_handler(t30, c->phase_d, c->user);
	t30_set_phase_e_handler(t30, c->phase_e, c->user);
	t30_set_real_time_frame_handler(t30, c->frame, c->user);
}

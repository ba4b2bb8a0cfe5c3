/* live.h - t38recv's live mode (lib/t38live), started from main() */
#ifndef T38RECV_LIVE_H
#define T38RECV_LIVE_H

/* 1 when the arguments ask for live mode (-l/--listen, --live, --inetd). */
int t38recv_live_requested(int argc, char **argv);
/* The whole program in live mode; returns the exit status. */
int t38recv_live_main(int argc, char **argv);

#endif

build/obj/lib/spool.o: lib/spool.c lib/crash.h lib/spool.h lib/job.h
lib/crash.h:
lib/spool.h:
lib/job.h:

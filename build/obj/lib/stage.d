build/obj/lib/stage.o: lib/stage.c lib/conf.h lib/crash.h lib/exits.h \
 lib/log.h lib/stage.h lib/job.h lib/spool.h
lib/conf.h:
lib/crash.h:
lib/exits.h:
lib/log.h:
lib/stage.h:
lib/job.h:
lib/spool.h:

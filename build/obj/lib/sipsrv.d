build/obj/lib/sipsrv.o: lib/sipsrv.c lib/sipsrv.h lib/sipredir.h \
 lib/directory.h lib/sipmsg.h lib/conf.h lib/exits.h lib/job.h lib/log.h
lib/sipsrv.h:
lib/sipredir.h:
lib/directory.h:
lib/sipmsg.h:
lib/conf.h:
lib/exits.h:
lib/job.h:
lib/log.h:

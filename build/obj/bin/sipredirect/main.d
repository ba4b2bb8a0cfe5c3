build/obj/bin/sipredirect/main.o: bin/sipredirect/main.c lib/conf.h \
 lib/directory.h lib/exits.h lib/log.h lib/sipmsg.h lib/sipredir.h \
 lib/directory.h lib/sipmsg.h lib/sipsrv.h lib/sipredir.h lib/stage.h \
 lib/job.h lib/spool.h
lib/conf.h:
lib/directory.h:
lib/exits.h:
lib/log.h:
lib/sipmsg.h:
lib/sipredir.h:
lib/directory.h:
lib/sipmsg.h:
lib/sipsrv.h:
lib/sipredir.h:
lib/stage.h:
lib/job.h:
lib/spool.h:

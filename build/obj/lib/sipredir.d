build/obj/lib/sipredir.o: lib/sipredir.c lib/sipredir.h lib/directory.h \
 lib/sipmsg.h lib/conf.h lib/job.h lib/log.h
lib/sipredir.h:
lib/directory.h:
lib/sipmsg.h:
lib/conf.h:
lib/job.h:
lib/log.h:

build/obj/lib/dirjob.o: lib/dirjob.c lib/dirjob.h lib/directory.h \
 lib/job.h
lib/dirjob.h:
lib/directory.h:
lib/job.h:

build/obj/lib/directory.o: lib/directory.c lib/conf.h lib/directory.h \
 lib/log.h
lib/conf.h:
lib/directory.h:
lib/log.h:

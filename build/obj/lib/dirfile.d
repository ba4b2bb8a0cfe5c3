build/obj/lib/dirfile.o: lib/dirfile.c lib/crash.h lib/directory.h \
 lib/dirfile.h
lib/crash.h:
lib/directory.h:
lib/dirfile.h:

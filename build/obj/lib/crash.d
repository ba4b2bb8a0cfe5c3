build/obj/lib/crash.o: lib/crash.c lib/crash.h lib/log.h
lib/crash.h:
lib/log.h:

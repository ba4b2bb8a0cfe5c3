build/obj/lib/sipmsg.o: lib/sipmsg.c lib/sipmsg.h
lib/sipmsg.h:

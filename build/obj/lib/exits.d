build/obj/lib/exits.o: lib/exits.c lib/exits.h
lib/exits.h:

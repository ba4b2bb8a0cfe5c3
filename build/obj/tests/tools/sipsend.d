build/obj/tests/tools/sipsend.o: tests/tools/sipsend.c

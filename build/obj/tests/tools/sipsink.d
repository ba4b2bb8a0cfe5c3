build/obj/tests/tools/sipsink.o: tests/tools/sipsink.c

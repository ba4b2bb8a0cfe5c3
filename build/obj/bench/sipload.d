build/obj/bench/sipload.o: bench/sipload.c

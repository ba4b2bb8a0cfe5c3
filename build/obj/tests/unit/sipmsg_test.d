build/obj/tests/unit/sipmsg_test.o: tests/unit/sipmsg_test.c lib/sipmsg.h \
 tests/unit/t.h
lib/sipmsg.h:
tests/unit/t.h:

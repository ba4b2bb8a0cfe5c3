build/obj/tests/tools/tiffpixcmp.o: tests/tools/tiffpixcmp.c

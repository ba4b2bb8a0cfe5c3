build/obj/lib/conf.o: lib/conf.c lib/conf.h lib/settings/common.def \
 lib/settings/t38recv.def lib/settings/faxtiff.def \
 lib/settings/umresolve.def lib/settings/faxmail.def \
 lib/settings/sipredirect.def
lib/conf.h:
lib/settings/common.def:
lib/settings/t38recv.def:
lib/settings/faxtiff.def:
lib/settings/umresolve.def:
lib/settings/faxmail.def:
lib/settings/sipredirect.def:

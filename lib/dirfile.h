/* dirfile.h - change the directory file as an administrator would by hand:
 * comments, blank lines and order are kept; only the changed lines differ.
 *
 * umfax_dirfile_apply() is the safe way to change the file on disk:
 *   1. lock PATH.lock (flock, exclusive; other writers wait);
 *   2. read PATH, apply the changes in memory, validate the whole result
 *      with umfax_dir_parse (a rejected change leaves the file untouched);
 *   3. write PATH.tmp.PID (O_EXCL, the old file's mode), fsync, close;
 *   4. rename over PATH, fsync the directory; unlock.
 * Readers (umresolve, sipredirect) see the old file or the new, never a mix. */
#ifndef UMFAX_DIRFILE_H
#define UMFAX_DIRFILE_H

#include <stddef.h>

enum umfax_dirop { UMFAX_DIROP_NEW, UMFAX_DIROP_SET, UMFAX_DIROP_REMOVE, UMFAX_DIROP_UPSERT };
enum umfax_dirkind { UMFAX_DIRKIND_DIALPLAN, UMFAX_DIRKIND_POLICY, UMFAX_DIRKIND_MAILBOX };

struct umfax_dirchange {
	enum umfax_dirop op;          /* UPSERT: SET when the object exists, else NEW */
	enum umfax_dirkind kind;
	const char *name;             /* dial plan / policy name, mailbox alias */
	const char *const *fields;    /* "field=value"; an empty value removes the field (default) */
	size_t nfields;
};

/* "dialplan", "policy", "mailbox" */
const char *umfax_dirkind_name(enum umfax_dirkind k);

/* Apply CH[0..N-1] to the text BUF (LEN bytes), giving a new malloc'd text
 * in *OUT (*OUTLEN bytes).  Only the form is checked here (object exists or
 * not, field names known); validate the result with umfax_dir_parse.
 * Returns 0, or a sysexits code (EX_DATAERR bad change, EX_NOINPUT no such
 * object, EX_OSERR no memory) with ERR. */
int umfax_dirfile_edit(const char *buf, size_t len, const struct umfax_dirchange *ch,
    size_t n, char **out, size_t *outlen, char *err, size_t errlen);

/* Apply CH[0..N-1] to the file PATH as one transaction (see above), waiting
 * at most LOCK_TIMEOUT seconds for the lock.  A missing file is created
 * (mode 0640).  Returns 0 (EX_OK), or a sysexits code with ERR: EX_DATAERR
 * (the change was rejected, ERR says why), EX_NOINPUT (no such object),
 * EX_TEMPFAIL (lock timeout), EX_CANTCREAT / EX_IOERR (writing failed; the
 * file is unchanged). */
int umfax_dirfile_apply(const char *path, const struct umfax_dirchange *ch, size_t n,
    int lock_timeout, char *err, size_t errlen);

#endif

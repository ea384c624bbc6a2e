/* One state directory, one gateway: an exclusive lock on STATE_DIR/lock,
 * held for the life of the process. flock(2) on an open file description,
 * so the kernel drops it when the process dies, however it dies; the
 * holder's PID is written into the file so that a second gateway can say
 * who has the directory. --check and --test never take it. */
#ifndef EF_STATEDIR_H
#define EF_STATEDIR_H

/* Creates STATE_DIR (and its parents) if needed and locks it. Returns the
 * lock's fd (keep it open), or -1 after logging why: the directory is in
 * use (naming the PID holding it), cannot be created, or its lock file is
 * not a regular file of ours. */
int ef_statedir_lock(const char *state_dir);

/* Releases the lock (the fd may be -1). */
void ef_statedir_unlock(int fd);

#endif

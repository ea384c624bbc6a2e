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
 * not a regular file of ours. A disk that fails (ef_file_is_fault: an SD
 * card gone read-only, I/O errors) does not stop the gateway: an existing
 * lock file is locked read-only, and without one the gateway runs on
 * unlocked, EF_STATEDIR_UNLOCKED, after a warning (the queue then runs in
 * memory and raises its disk alarm). */
int ef_statedir_lock(const char *state_dir);

#define EF_STATEDIR_UNLOCKED (-2)

/* Releases the lock (the fd may be -1). */
void ef_statedir_unlock(int fd);

#endif

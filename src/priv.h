/* priv.h: give up root once the privileged set-up is done. */
#ifndef ILBD_PRIV_H
#define ILBD_PRIV_H

/*
 * Become user, keeping only CAP_NET_ADMIN and CAP_NET_RAW. Returns 0
 * when done; 1 when there is nothing to do (user "", not root, or no
 * such user: *cause then says why, for a notice); -1 on failure with
 * *cause set, after which the process must not go on.
 */
int	priv_drop(const char *, char **);

#endif

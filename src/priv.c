/* priv.c: give up root once the privileged set-up is done. */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/capability.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "priv.h"
#include "util.h"

/*
 * What ilbd still needs as the unprivileged user: CAP_NET_ADMIN to add
 * and remove VIP routes (reload, exit), CAP_NET_RAW for sockets bound to
 * the interface. Every socket and the TUN device are open already.
 */
#define PRIV_KEEP	((1U << CAP_NET_ADMIN) | (1U << CAP_NET_RAW))

static int
priv_fail(char **cause, const char *what, const char *user)
{
	return (util_cause(cause, "cannot run as user %s: %s: %s", user, what,
	    strerror(errno)));
}

/* Keep exactly PRIV_KEEP, effective and permitted, nothing inheritable. */
static int
priv_setcaps(void)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[_LINUX_CAPABILITY_U32S_3];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	data[0].effective = PRIV_KEEP;
	data[0].permitted = PRIV_KEEP;
	return ((int)syscall(SYS_capset, &hdr, data));
}

int
priv_drop(const char *user, char **cause)
{
	struct passwd	*pw;
	gid_t		 gid;

	*cause = NULL;
	if (user[0] == '\0' || geteuid() != 0)
		return (1);
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		util_cause(cause, "user %s does not exist: still running as "
		    "root (create it, or set node.user = \"\")", user);
		return (1);
	}
	gid = pw->pw_gid;
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) == -1)
		return (priv_fail(cause, "prctl", user));
	if (setgroups(1, &gid) == -1)
		return (priv_fail(cause, "setgroups", user));
	if (setresgid(gid, gid, gid) == -1)
		return (priv_fail(cause, "setresgid", user));
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		return (priv_fail(cause, "setresuid", user));
	if (priv_setcaps() == -1)
		return (priv_fail(cause, "capset", user));
	if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) == -1)
		return (priv_fail(cause, "prctl", user));
	/* Root must be gone for good. */
	if (setuid(0) == 0) {
		errno = EPERM;
		return (priv_fail(cause, "root could be regained", user));
	}
	return (0);
}

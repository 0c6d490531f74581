/* notify.c: sd_notify(3) for ilbd's systemd unit (Type=notify). */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"
#include "notify.h"

#ifdef HAVE_LIBSYSTEMD
/* Send one message; a failure is only logged (ilbd runs on regardless). */
static void
notify_send(const char *msg)
{
	int	rv;

	if ((rv = sd_notify(0, msg)) < 0)
		log_debug("sd_notify: %s: error %d", msg, -rv);
}
#endif

void
notify_ready(const char *status)
{
#ifdef HAVE_LIBSYSTEMD
	char	msg[600];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	notify_send(msg);
#else
	(void)status;
#endif
}

void
notify_status(const char *status)
{
#ifdef HAVE_LIBSYSTEMD
	char	msg[600];

	snprintf(msg, sizeof(msg), "STATUS=%s", status);
	notify_send(msg);
#else
	(void)status;
#endif
}

void
notify_reloading(void)
{
#ifdef HAVE_LIBSYSTEMD
	struct timespec	ts;
	char		msg[80];

	/* MONOTONIC_USEC: systemd 253 and later want it with RELOADING. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	notify_send(msg);
#endif
}

void
notify_stopping(const char *status)
{
#ifdef HAVE_LIBSYSTEMD
	char	msg[600];

	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", status);
	notify_send(msg);
#else
	(void)status;
#endif
}

void
notify_watchdog(void)
{
#ifdef HAVE_LIBSYSTEMD
	notify_send("WATCHDOG=1");
#endif
}

uint64_t
notify_watchdog_usec(void)
{
#ifdef HAVE_LIBSYSTEMD
	uint64_t	usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0)
		return (usec);
#endif
	return (0);
}

/*
 * notify.h: tell systemd what ilbd is doing (Type=notify, sd_notify(3)).
 * Every function does nothing outside systemd (no NOTIFY_SOCKET) and in a
 * build without libsystemd (configure --without-systemd).
 */
#ifndef ILBD_NOTIFY_H
#define ILBD_NOTIFY_H

#include <stdint.h>

/* READY=1 with STATUS=status: configuration loaded, device up. */
void	notify_ready(const char *);
/* STATUS=status (members and state). */
void	notify_status(const char *);
/* RELOADING=1 before a reload (READY=1 follows, whatever the result). */
void	notify_reloading(void);
/* STOPPING=1 with STATUS=status when the graceful leave starts. */
void	notify_stopping(const char *);
/* WATCHDOG=1: the event loop is alive. */
void	notify_watchdog(void);
/* The watchdog interval systemd asks for (WatchdogSec=), or 0. */
uint64_t notify_watchdog_usec(void);

#endif

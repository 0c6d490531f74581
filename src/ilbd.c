/* ilbd.c: main(), command-line options, the libevent base and signals. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cluster.h"
#include "config.h"
#include "control.h"
#include "ctlcmd.h"
#include "daemon.h"
#include "event.h"
#include "health.h"
#include "lb.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "notify.h"
#include "priv.h"
#include "util.h"

#define ILBD_CONFFILE	"/etc/ilbd.conf"	/* the contract's default */

struct ilbd {
	struct event_base	*base;
	struct ilbd_conf	*conf;
	struct daemon		*daemon;
	struct metrics		*metrics;
	struct health		*health;
	struct control		*control;
	struct control		*control_ro;	/* control.socket_ro or NULL */
	struct ctlcmd_env	 ctlenv;
	const char		*conffile;
	struct event		*ev_term;
	struct event		*ev_int;
	struct event		*ev_hup;
	struct event		*ev_usr1;
	struct event		*ev_status;	/* systemd STATUS, WATCHDOG */
	char			 status[160];	/* the last STATUS sent */
	uint64_t		 watchdog_usec;	/* WatchdogSec=, or 0 */
	int			 leaving;
	int			 exit_status;
};

static void	ilbd_usage(void) __attribute__((noreturn));
static int	ilbd_check(const char *, int);
static int	ilbd_reload(struct ilbd *, char **);
static int	ilbd_reload_result(char **, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	ilbd_left(void *);
static void	ilbd_leave(struct ilbd *, const char *);
static void	ilbd_status(struct ilbd *, char *, size_t);
static void	ilbd_on_signal(evutil_socket_t, short, void *);
static void	ilbd_run(struct ilbd *, int);

static void
ilbd_usage(void)
{
	fprintf(stderr, "usage: ilbd [-fnvV] [-d]... [-c file]\n");
	exit(1);
}

/* -n: check the configuration; print the first error or a summary. */
static int
ilbd_check(const char *file, int verbose)
{
	struct ilbd_conf	*conf;
	char			*cause = NULL;
	char			 summary[512];

	if (config_load(file, &conf, &cause) == -1) {
		fprintf(stderr, "%s\n", cause ? cause : "configuration error");
		free(cause);
		return (1);
	}
	config_summary(conf, summary, sizeof(summary));
	printf("%s: ok: %s\n", file, summary);
	if (verbose)
		config_dump(conf, stdout);
	config_free(conf);
	return (0);
}

/* Log a reload's outcome and keep it for ilbctl; returns rv. */
static int
ilbd_reload_result(char **result, int rv, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg = NULL;

	va_start(ap, fmt);
	util_vcause(&msg, fmt, ap);
	va_end(ap);
	if (rv == 0)
		log_info("%s", msg ? msg : "configuration reloaded");
	else
		log_warnx("%s", msg ? msg : "reload failed");
	ilbd_event_reload(rv == 0, msg ? msg : rv == 0 ? "reloaded" :
	    "failed");
	if (result != NULL)
		*result = msg;
	else
		free(msg);
	return (rv);
}

/*
 * SIGHUP and ilbctl reload: load and validate the file again, then apply
 * it without losing a connection. On any error the running configuration
 * stays as it is and the reason is logged (and given to ilbctl).
 */
static int
ilbd_reload_apply(struct ilbd *env, char **result)
{
	struct ilbd_conf	*conf, *old = env->conf;
	char			*cause = NULL, summary[512];
	int			 rv;

	if (config_load(env->conffile, &conf, &cause) == -1) {
		rv = ilbd_reload_result(result, -1, "reload failed, keeping "
		    "the running configuration: %s", cause ? cause :
		    "configuration error");
		free(cause);
		return (rv);
	}
	if (memcmp(&conf->node.id, &old->node.id, sizeof(conf->node.id)) !=
	    0) {
		rv = ilbd_reload_result(result, -1, "reload refused: node.id "
		    "cannot change at run time (%s -> %s); restart ilbd",
		    old->node.id_text, conf->node.id_text);
		config_free(conf);
		return (rv);
	}
	if (conf->input.mode != old->input.mode ||
	    strcmp(conf->input.device, old->input.device) != 0) {
		config_free(conf);
		return (ilbd_reload_result(result, -1, "reload refused: "
		    "input.mode and input.device cannot change at run time; "
		    "restart ilbd"));
	}
	if (daemon_reload(env->daemon, conf, summary, sizeof(summary),
	    &cause) == -1) {
		rv = ilbd_reload_result(result, -1, "reload refused, keeping "
		    "the running configuration: %s", cause ? cause : "error");
		free(cause);
		config_free(conf);
		return (rv);
	}
	if (health_reload(env->health, conf, &cause) == -1) {
		log_warnx("reload: health checks: %s", cause ? cause : "error");
		free(cause);
	}
	env->conf = conf;
	config_free(old);
	return (ilbd_reload_result(result, 0, "configuration reloaded: %s",
	    summary));
}

/* A reload, told to systemd: RELOADING=1, then READY=1 whatever it gave. */
static int
ilbd_reload(struct ilbd *env, char **result)
{
	char	status[sizeof(env->status)];
	int	rv;

	notify_reloading();
	rv = ilbd_reload_apply(env, result);
	ilbd_status(env, status, sizeof(status));
	notify_ready(status);
	return (rv);
}

/*
 * SIGHUP: as ilbctl reload, whose handler notes in show info a reload
 * refused before daemon_reload() (file, node.id); here it is noted so.
 */
static void
ilbd_reload_hup(struct ilbd *env)
{
	uint64_t	 noted = daemon_info(env->daemon)->reloads;
	char		*result = NULL;
	int		 rv;

	rv = ilbd_reload(env, &result);
	if (daemon_info(env->daemon)->reloads == noted)
		daemon_note_reload(env->daemon, rv == 0, result != NULL ?
		    result : "reload failed");
	free(result);
}

/* ilbctl reload. */
static int
ilbd_ctl_reload(void *arg, char **result)
{
	return (ilbd_reload(arg, result));
}

/* ilbctl leave: as SIGTERM. */
static void
ilbd_ctl_leave(void *arg)
{
	struct ilbd	*env = arg;

	if (env->leaving++)
		return;
	ilbd_leave(env, "ilbctl leave");
}

/* Start the graceful leave (SIGTERM, ilbctl leave); systemd: STOPPING. */
static void
ilbd_leave(struct ilbd *env, const char *why)
{
	log_info("%s: leaving the cluster", why);
	notify_stopping("leaving the cluster: handing connections over");
	daemon_leave(env->daemon, ilbd_left, env);
}

/* One line for systemd's STATUS: our state and the members we see. */
static void
ilbd_status(struct ilbd *env, char *buf, size_t len)
{
	struct cluster	*cl = daemon_cluster(env->daemon);
	size_t		 active, joining;

	if (cl == NULL) {
		snprintf(buf, len, "%s", env->leaving ? "leaving" : "running");
		return;
	}
	active = cluster_active(cl, NULL, NULL, NULL, 0, NULL);
	joining = cluster_joining(cl, NULL, NULL, NULL, 0);
	snprintf(buf, len, "%s; members: %zu active, %zu joining",
	    msg_state_name(cluster_state(cl)), active, joining);
}

/* Every second (or half WatchdogSec=): STATUS when it changed, WATCHDOG. */
static void
ilbd_on_status(evutil_socket_t fd, short what, void *arg)
{
	struct ilbd	*env = arg;
	char		 status[sizeof(env->status)];

	(void)fd;
	(void)what;
	ilbd_status(env, status, sizeof(status));
	if (strcmp(status, env->status) != 0) {
		memcpy(env->status, status, sizeof(env->status));
		notify_status(status);
	}
	if (env->watchdog_usec != 0)
		notify_watchdog();
}

/*
 * The control socket's directory (/run/ilbd, RuntimeDirectory=ilbd under
 * systemd): created, mode 0755, if it is missing (ilbd started by hand).
 */
static void
ilbd_socket_dir(const char *path)
{
	char	 dir[sizeof(((struct ilbd_conf *)NULL)->control_socket)];
	char	*slash;

	util_strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		log_warn("control socket directory %s", dir);
}

/* The entries are handed over: let the LEAVING announcement go, then stop. */
static void
ilbd_left(void *arg)
{
	struct ilbd	*env = arg;
	struct timeval	 tv = { 0, 200 * 1000 };

	event_base_loopexit(env->base, &tv);
}

static void
ilbd_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct ilbd	*env = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		log_info("SIGHUP: reloading %s", env->conffile);
		ilbd_reload_hup(env);
		break;
	case SIGUSR1:
		daemon_log_stats(env->daemon);
		break;
	case SIGTERM:
	case SIGINT:
		if (env->leaving++) {
			log_info("%s again: stopping now", strsignal(sig));
			event_base_loopbreak(env->base);
			break;
		}
		ilbd_leave(env, strsignal(sig));
		break;
	}
}

/*
 * A health check changed a server's state. The checker counts in the
 * configuration's order; the data path keeps its own (stable across
 * reloads): match by service name and server address.
 */
static void
ilbd_health_changed(void *arg, unsigned int svc, unsigned int srv, int up)
{
	struct ilbd		*env = arg;
	struct lb		*lb = daemon_lb(env->daemon);
	struct health_info	 hi;
	const struct ilb_addr	*addr;
	const char		*name;
	int			 i, j;

	name = health_service_name(env->health, svc);
	addr = health_server_addr(env->health, svc, srv);
	if (name == NULL || addr == NULL ||
	    (i = lb_service_by_name(lb, name)) == -1 ||
	    (j = lb_service_server(lb, (unsigned int)i, addr)) == -1)
		return;
	if (health_info(env->health, svc, srv, &hi) == -1)
		hi.last_error = 0;
	lb_server_set_up(lb, (unsigned int)i, (unsigned int)j, up,
	    hi.last_error);
	daemon_sched_changed(env->daemon);
	ilbd_event_server(up ? ILBD_EV_SERVER_UP : ILBD_EV_SERVER_DOWN, name,
	    addr, -1, NULL);
}

/* Everything privileged is open: become node.user. */
static void
ilbd_drop_privileges(struct ilbd *env)
{
	char	*cause = NULL;

	switch (priv_drop(env->conf->node.user, &cause)) {
	case -1:
		fatalx("%s", cause ? cause : "cannot drop privileges");
	case 0:
		log_info("running as user %s with CAP_NET_ADMIN and "
		    "CAP_NET_RAW only", env->conf->node.user);
		break;
	default:
		if (cause != NULL)
			log_warnx("%s", cause);
		break;
	}
	free(cause);
}

/* Set up the event base, signals and the data path; run until told to stop. */
static void
ilbd_run(struct ilbd *env, int foreground)
{
	char		summary[512], *cause = NULL;
	struct timeval	tv = { 1, 0 };

	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon");
	signal(SIGPIPE, SIG_IGN);
	if ((env->base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	env->ev_term = evsignal_new(env->base, SIGTERM, ilbd_on_signal, env);
	env->ev_int = evsignal_new(env->base, SIGINT, ilbd_on_signal, env);
	env->ev_hup = evsignal_new(env->base, SIGHUP, ilbd_on_signal, env);
	env->ev_usr1 = evsignal_new(env->base, SIGUSR1, ilbd_on_signal, env);
	if (env->ev_term == NULL || env->ev_int == NULL ||
	    env->ev_hup == NULL || env->ev_usr1 == NULL ||
	    evsignal_add(env->ev_term, NULL) == -1 ||
	    evsignal_add(env->ev_int, NULL) == -1 ||
	    evsignal_add(env->ev_hup, NULL) == -1 ||
	    evsignal_add(env->ev_usr1, NULL) == -1)
		fatalx("cannot install signal events");
	if ((env->daemon = daemon_open(env->base, env->conf, &cause)) ==
	    NULL)
		fatalx("%s", cause ? cause : "cannot start the data path");
	if ((env->metrics = metrics_open(env->base, env->conf, env->daemon,
	    &cause)) == NULL)
		fatalx("%s", cause ? cause : "cannot start the metrics");
	if ((env->health = health_open(env->base, env->conf,
	    ilbd_health_changed, env, &cause)) == NULL)
		fatalx("%s", cause ? cause : "cannot start the health checks");
	health_sync(env->health);	/* servers that start down */
	env->ctlenv.daemon = env->daemon;
	env->ctlenv.reload = ilbd_ctl_reload;
	env->ctlenv.leave = ilbd_ctl_leave;
	env->ctlenv.arg = env;
	ilbd_socket_dir(env->conf->control_socket);
	if ((env->control = control_open(env->base, env->conf->control_socket,
	    0, ctlcmd_handle, &env->ctlenv, &cause)) == NULL)
		fatalx("control socket: %s", cause ? cause : "cannot open");
	if (env->conf->control_socket_ro[0] != '\0') {
		ilbd_socket_dir(env->conf->control_socket_ro);
		if ((env->control_ro = control_open(env->base,
		    env->conf->control_socket_ro, CONTROL_READONLY,
		    ctlcmd_handle, &env->ctlenv, &cause)) == NULL)
			fatalx("read-only control socket: %s", cause ? cause :
			    "cannot open");
	}
	daemon_set_stats(env->daemon, health_stats(env->health),
	    control_stats(env->control));
	ilbd_drop_privileges(env);

	config_summary(env->conf, summary, sizeof(summary));
	log_info("ilbd %s started (pid %ld): %s", PACKAGE_VERSION,
	    (long)getpid(), summary);
	ilbd_status(env, env->status, sizeof(env->status));
	notify_ready(env->status);
	if ((env->watchdog_usec = notify_watchdog_usec()) != 0 &&
	    env->watchdog_usec / 2 < 1000000) {
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)(env->watchdog_usec / 2);
	}
	if ((env->ev_status = event_new(env->base, -1, EV_PERSIST,
	    ilbd_on_status, env)) == NULL ||
	    event_add(env->ev_status, &tv) == -1)
		fatalx("cannot start the status timer");
	if (event_base_dispatch(env->base) == -1)
		log_warnx("event loop failed");
	control_close(env->control_ro);
	control_close(env->control);
	health_close(env->health);
	metrics_close(env->metrics);
	daemon_close(env->daemon);
	log_info("ilbd stopped");

	event_free(env->ev_status);
	event_free(env->ev_usr1);
	event_free(env->ev_term);
	event_free(env->ev_int);
	event_free(env->ev_hup);
	event_base_free(env->base);
}

int
main(int argc, char *argv[])
{
	struct ilbd	 env;
	char		*cause = NULL;
	int		 ch, foreground = 0, checkonly = 0, verbose = 0;

	memset(&env, 0, sizeof(env));
	env.conffile = ILBD_CONFFILE;
	while ((ch = getopt(argc, argv, "c:dfnvV")) != -1) {
		switch (ch) {
		case 'c':
			env.conffile = optarg;
			break;
		case 'd':
		case 'v':
			verbose++;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'V':
			printf("ilbd %s\n", PACKAGE_VERSION);
			return (0);
		default:
			ilbd_usage();
		}
	}
	if (optind != argc)
		ilbd_usage();
	if (checkonly)
		return (ilbd_check(env.conffile, verbose));

	log_init("ilbd", foreground, verbose);
	if (config_load(env.conffile, &env.conf, &cause) == -1)
		fatalx("%s", cause ? cause : "configuration error");
	ilbd_run(&env, foreground);
	config_free(env.conf);
	return (env.exit_status);
}

/* ilbd.c: main(), command-line options, the libevent base and signals. */
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "dp.h"
#include "log.h"
#include "metrics.h"
#include "priv.h"

#define ILBD_CONFFILE	"/etc/ilbd.conf"	/* the contract's default */

struct ilbd {
	struct event_base	*base;
	struct ilbd_conf	*conf;
	struct dp		*dp;
	struct metrics		*metrics;
	const char		*conffile;
	struct event		*ev_term;
	struct event		*ev_int;
	struct event		*ev_hup;
	struct event		*ev_usr1;
	int			 leaving;
	int			 exit_status;
};

static void	ilbd_usage(void) __attribute__((noreturn));
static int	ilbd_check(const char *, int);
static void	ilbd_reload(struct ilbd *);
static void	ilbd_left(void *);
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

/*
 * SIGHUP: load and validate the file again. On any error the running
 * configuration stays as it is and the reason is logged.
 */
static void
ilbd_reload(struct ilbd *env)
{
	struct ilbd_conf	*conf;
	char			*cause = NULL;
	char			 summary[512];

	if (config_load(env->conffile, &conf, &cause) == -1) {
		log_warnx("reload failed, keeping the running configuration: %s",
		    cause ? cause : "configuration error");
		free(cause);
		return;
	}
	if (memcmp(&conf->node.id, &env->conf->node.id,
	    sizeof(conf->node.id)) != 0) {
		log_warnx("reload refused: node.id cannot change at run time "
		    "(%s -> %s); restart ilbd", env->conf->node.id_text,
		    conf->node.id_text);
		config_free(conf);
		return;
	}
	if (conf->input.mode != env->conf->input.mode ||
	    strcmp(conf->input.device, env->conf->input.device) != 0) {
		log_warnx("reload refused: input.mode and input.device cannot "
		    "change at run time; restart ilbd");
		config_free(conf);
		return;
	}
	/*
	 * The data path keeps running on the configuration it started with:
	 * applying service changes live (with their connections) comes with
	 * ilbctl reload. Say so rather than pretend.
	 */
	config_summary(conf, summary, sizeof(summary));
	log_info("configuration reloaded: %s; the data path applies changes "
	    "to services, servers and tables at the next restart", summary);
	config_free(conf);
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
		ilbd_reload(env);
		break;
	case SIGUSR1:
		dp_log_stats(env->dp);
		break;
	case SIGTERM:
	case SIGINT:
		if (env->leaving++) {
			log_info("%s again: stopping now", strsignal(sig));
			event_base_loopbreak(env->base);
			break;
		}
		log_info("%s: leaving the cluster", strsignal(sig));
		dp_leave(env->dp, ilbd_left, env);
		break;
	}
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
	char	summary[512], *cause = NULL;

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
	if ((env->dp = dp_open(env->base, env->conf, &cause)) == NULL)
		fatalx("%s", cause ? cause : "cannot start the data path");
	if ((env->metrics = metrics_open(env->base, env->conf, env->dp,
	    &cause)) == NULL)
		fatalx("%s", cause ? cause : "cannot start the metrics");
	ilbd_drop_privileges(env);

	config_summary(env->conf, summary, sizeof(summary));
	log_info("ilbd %s started (pid %ld): %s", PACKAGE_VERSION,
	    (long)getpid(), summary);
	if (event_base_dispatch(env->base) == -1)
		log_warnx("event loop failed");
	metrics_close(env->metrics);
	dp_close(env->dp);
	log_info("ilbd stopped");

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

/* ctlcmd_info.c: show info: version, uptime, state, config, last reload. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "cluster.h"
#include "ctlcmd.h"
#include "ctlcmd_int.h"
#include "daemon.h"
#include "repl.h"
#include "repl_sm.h"
#include "util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"unknown"
#endif

/* "2026-12-05T12:00:00Z" (UTC). */
static const char *
ctlcmd_info_time(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return (buf);
}

void
ctlcmd_info_render(const struct ctlcmd_info *in, int json,
    struct evbuffer *out)
{
	struct ctlcmd_json	j;
	char			started[32], at[32];
	uint64_t		u = in->uptime_s;

	ctlcmd_info_time(in->start_time, started, sizeof(started));
	if (in->reload_time != 0)
		ctlcmd_info_time(in->reload_time, at, sizeof(at));
	if (!json) {
		evbuffer_add_printf(out, "version        %s\n"
		    "id             %s\nstate          %s\n"
		    "epoch          %llu\nstarted        %s\n"
		    "uptime         %llu s (%llud %02llu:%02llu:%02llu)\n"
		    "config         %s\nconfig sha256  %s\n"
		    "reloads        %llu (%llu failed)\n",
		    in->version, in->id, in->state,
		    (unsigned long long)in->epoch, started,
		    (unsigned long long)u, (unsigned long long)(u / 86400),
		    (unsigned long long)(u / 3600 % 24),
		    (unsigned long long)(u / 60 % 60),
		    (unsigned long long)(u % 60), in->conf_file,
		    in->conf_sha256 != NULL ? in->conf_sha256 : "unknown",
		    (unsigned long long)in->reloads,
		    (unsigned long long)in->reload_failures);
		if (in->reload_time == 0)
			evbuffer_add_printf(out, "last reload    never\n");
		else
			evbuffer_add_printf(out, "last reload    %s %s: %s\n",
			    at, in->reload_ok ? "ok" : "failed",
			    in->reload_result);
		return;
	}
	ctlcmd_json_init(&j, out);
	ctlcmd_json_open(&j, NULL, '{');
	ctlcmd_json_str(&j, "version", in->version);
	ctlcmd_json_str(&j, "id", in->id);
	ctlcmd_json_str(&j, "state", in->state);
	ctlcmd_json_num(&j, "epoch", in->epoch);
	ctlcmd_json_num(&j, "start_time", (uint64_t)in->start_time);
	ctlcmd_json_str(&j, "started", started);
	ctlcmd_json_num(&j, "uptime_s", u);
	ctlcmd_json_str(&j, "config_file", in->conf_file);
	ctlcmd_json_str(&j, "config_sha256", in->conf_sha256);
	ctlcmd_json_num(&j, "reloads", in->reloads);
	ctlcmd_json_num(&j, "reload_failures", in->reload_failures);
	if (in->reload_time == 0)
		ctlcmd_json_str(&j, "last_reload", NULL);
	else {
		ctlcmd_json_open(&j, "last_reload", '{');
		ctlcmd_json_num(&j, "time", (uint64_t)in->reload_time);
		ctlcmd_json_str(&j, "at", at);
		ctlcmd_json_bool(&j, "ok", in->reload_ok);
		ctlcmd_json_str(&j, "result", in->reload_result);
		ctlcmd_json_close(&j, '}');
	}
	ctlcmd_json_end(&j);
}

/* joining, active, leaving (from the first step of a leave), left. */
static const char *
ctlcmd_info_state(struct daemon *d)
{
	if (daemon_info(d)->leaving)
		return ("leaving");
	switch (repl_phase(daemon_repl(d))) {
	case REPL_SM_JOINING:
		return ("joining");
	case REPL_SM_ACTIVE:
		return ("active");
	case REPL_SM_LEAVING:
		return ("leaving");
	case REPL_SM_LEFT:
		return ("left");
	}
	return ("unknown");
}

int
ctlcmd_show_info(struct daemon *d, const struct cluster *c,
    const struct ctl_req *req, uint64_t now_ms, struct evbuffer *out,
    char **err)
{
	const struct daemon_info	*di;
	const struct ilbd_conf		*conf;
	struct ctlcmd_info		 in;

	if (d == NULL)
		return (util_cause(err, "show info: no daemon"));
	di = daemon_info(d);
	conf = daemon_conf(d);
	memset(&in, 0, sizeof(in));
	in.version = PACKAGE_VERSION;
	in.id = conf->node.id_text;
	in.state = ctlcmd_info_state(d);
	in.epoch = c != NULL ? cluster_epoch(c) : 0;
	in.start_time = di->start_time;
	in.uptime_s = now_ms > di->start_ms ? (now_ms - di->start_ms) / 1000 :
	    0;
	in.conf_file = conf->path;
	in.conf_sha256 = di->conf_sha256[0] != '\0' ? di->conf_sha256 : NULL;
	in.reloads = di->reloads;
	in.reload_failures = di->reload_failures;
	in.reload_time = di->reload_time;
	in.reload_ok = di->reload_ok;
	in.reload_result = di->reload_result;
	ctlcmd_info_render(&in, req->json, out);
	return (0);
}

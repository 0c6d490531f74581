/* ctlcmd_admin.c: server drain|enable|weight, cluster-wide or local. */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "admin.h"
#include "ctlcmd.h"
#include "ctlcmd_int.h"
#include "daemon.h"
#include "event.h"
#include "lb.h"
#include "log.h"
#include "msg.h"
#include "repl.h"
#include "sched.h"
#include "util.h"

/* The trailing "local" word: this member only (today's behaviour). */
int
ctlcmd_admin_local(const struct ctl_req *req, int nops)
{
	return (req->argc == nops + 1 &&
	    strcmp(req->argv[nops], "local") == 0);
}

/* Apply an lb_server_set_*() change: the schedulers are rebuilt. */
static void
ctlcmd_admin_rebuild(struct daemon *daemon, struct lb *lb, unsigned int svc)
{
	if (daemon != NULL)
		daemon_sched_changed(daemon);
	else
		sched_rebuild(&lb->svc[svc].sched);
}

int
ctlcmd_admin_set(struct daemon *daemon, struct lb *lb,
    const struct ctl_req *req, unsigned int svc, unsigned int srv,
    int drained, int weight, int local, struct evbuffer *out, char **err)
{
	const struct lb_service	*s = &lb->svc[svc];
	struct msg_admin	 r;
	char			 what[32], line[CTL_ARG_LEN * 2 + 96];

	if (weight >= 0)
		snprintf(what, sizeof(what), ": weight %d", weight);
	else
		snprintf(what, sizeof(what), " %s", drained ? "drained" :
		    "enabled");
	if (local) {
		if ((drained >= 0 && lb_server_set_drained(lb, svc, srv,
		    drained) == -1) || (weight >= 0 &&
		    lb_server_set_weight(lb, svc, srv, (uint32_t)weight) == -1))
			return (util_cause(err, "cannot change server %s",
			    req->argv[1]));
		ctlcmd_admin_rebuild(daemon, lb, svc);
		snprintf(line, sizeof(line), "server %s of %s%s (local only: "
		    "this member; the others still use it)", req->argv[1],
		    req->argv[0], what);
	} else {
		if (lb->admin == NULL)
			return (util_cause(err, "no cluster here: add 'local' "
			    "to change this member only"));
		if (admin_command(lb->admin, s->conf->name,
		    &s->srv[srv].conf->addr, drained, weight,
		    repl_realtime_ms(), &r) == -1)
			return (util_cause(err, "cannot change server %s "
			    "cluster-wide (%u servers have a cluster-wide "
			    "state already)", req->argv[1], ADMIN_RECS_MAX));
		ctlcmd_admin_rebuild(daemon, lb, svc);
		snprintf(line, sizeof(line), "server %s of %s%s (cluster-wide, "
		    "version %llu)", req->argv[1], req->argv[0], what,
		    (unsigned long long)r.version);
	}
	log_info("control: %s", line);
	ilbd_event_server(weight >= 0 ? ILBD_EV_SERVER_WEIGHT : drained ?
	    ILBD_EV_SERVER_DRAIN : ILBD_EV_SERVER_ENABLE, s->conf->name,
	    &s->srv[srv].conf->addr, weight, local ? "local" : "cluster");
	return (ctlcmd_answer(req, out, line));
}

const char *
ctlcmd_admin_source(const struct lb *lb, const struct lb_service *s,
    const struct lb_server *v, char *buf, size_t len)
{
	const struct msg_admin	*r;
	const struct sched_server *ss = v->sched;
	char			 o[ILB_ADDRSTRLEN];
	int			 agrees;

	r = lb->admin != NULL ? admin_find(lb->admin, s->conf->name,
	    &v->conf->addr) : NULL;
	if (r != NULL) {
		agrees = (!(r->flags & MSG_ADMIN_F_DRAIN) || ss->drained ==
		    ((r->flags & MSG_ADMIN_F_DRAINED) != 0)) &&
		    (!(r->flags & MSG_ADMIN_F_WEIGHT) || ss->weight ==
		    r->weight);
		if (agrees) {
			snprintf(buf, len, "cluster:%s",
			    msg_id_fmt(&r->origin, o, sizeof(o)));
			return (buf);
		}
		return ("local");
	}
	if (ss->drained || ss->weight != v->conf->weight)
		return ("local");
	return ("-");
}

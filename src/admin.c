/* admin.c: cluster-wide server drain and weight (ADMIN messages). */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "event.h"
#include "lb.h"
#include "log.h"
#include "msg.h"
#include "sched.h"
#include "util.h"

/*
 * A server is chosen by its connection's owner, which can be any member:
 * a drain applied on one member only does not drain it.  So an operator's
 * drain, enable or weight becomes a record with a cluster-wide version
 * (the wall clock in ms, above every version seen: a Lamport clock), sent
 * to every member, applied by each, and re-sent by each every
 * ADMIN_ANNOUNCE_MS, so that a lost datagram or a member that restarts
 * learns it; everywhere the highest (version, origin) wins.
 */

const struct counter_desc admin_counters[] = {
#define ADMIN_COUNTER_FIELD(name, help)					\
	COUNTER_FIELD(struct admin_stats, name, help)
	ADMIN_STATS_FOREACH(ADMIN_COUNTER_FIELD)
#undef ADMIN_COUNTER_FIELD
	COUNTER_END
};

void
admin_init(struct admin *a, struct lb *lb, const struct member_id *self,
    admin_send_fn send, void *arg)
{
	memset(a, 0, sizeof(*a));
	a->lb = lb;
	a->self = *self;
	a->send = send;
	a->arg = arg;
}

/* Index of the record of server s of service, or -1. */
static int
admin_index(const struct admin *a, const char *service,
    const struct ilb_addr *s)
{
	unsigned int	i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->rec[i].service, service) == 0 &&
		    util_addr_eq(&a->rec[i].server, s))
			return ((int)i);
	return (-1);
}

static struct msg_admin *
admin_lookup(struct admin *a, const char *service, const struct ilb_addr *s)
{
	int	i;

	return ((i = admin_index(a, service, s)) == -1 ? NULL : &a->rec[i]);
}

const struct msg_admin *
admin_find(const struct admin *a, const char *service,
    const struct ilb_addr *s)
{
	int	i;

	return ((i = admin_index(a, service, s)) == -1 ? NULL : &a->rec[i]);
}

/* The live service and server of r: 0, or -1 if not here. */
static int
admin_where(const struct admin *a, const struct msg_admin *r,
    unsigned int *svc, unsigned int *srv)
{
	int	i, j;

	if ((i = lb_service_by_name(a->lb, r->service)) == -1 ||
	    (j = lb_service_server(a->lb, (unsigned int)i, &r->server)) == -1 ||
	    !lb_server_live(a->lb, (unsigned int)i, (unsigned int)j))
		return (-1);
	*svc = (unsigned int)i;
	*srv = (unsigned int)j;
	return (0);
}

/* Apply r to the scheduler; 0, or -1 if its server is not here. */
static int
admin_apply(struct admin *a, const struct msg_admin *r)
{
	unsigned int	svc, srv;

	if (admin_where(a, r, &svc, &srv) == -1)
		return (-1);
	if (r->flags & MSG_ADMIN_F_DRAIN)
		(void)lb_server_set_drained(a->lb, svc, srv,
		    (r->flags & MSG_ADMIN_F_DRAINED) != 0);
	if (r->flags & MSG_ADMIN_F_WEIGHT)
		(void)lb_server_set_weight(a->lb, svc, srv, r->weight);
	sched_rebuild(&a->lb->svc[svc].sched);
	return (0);
}

/*
 * Before the privileges are dropped: the state file exists and belongs
 * to node.user, who rewrites it in place later (the directory may be
 * root's: the boot epoch is written there before the drop).
 */
void
admin_set_dir(struct admin *a, const char *dir, const char *user)
{
	char		 path[PATH_MAX + sizeof(ADMIN_FILE) + 1];
	struct passwd	*pw;
	int		 fd;

	util_strlcpy(a->dir, dir != NULL ? dir : "", sizeof(a->dir));
	if (a->dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%s", a->dir, ADMIN_FILE);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0644)) == -1) {
		log_warnx("admin: %s: %s", path, strerror(errno));
		return;
	}
	if (geteuid() == 0 && user != NULL && *user != '\0' &&
	    (pw = getpwnam(user)) != NULL &&
	    fchown(fd, pw->pw_uid, pw->pw_gid) == -1)
		log_warnx("admin: %s: chown to %s: %s", path, user,
		    strerror(errno));
	close(fd);
}

/*
 * Rewrite the state file in place (not the hot path).  A crash halfway
 * leaves a short file: the loader takes each whole line it can, and the
 * other members have the rest.
 */
static void
admin_save(struct admin *a)
{
	char		 path[PATH_MAX + sizeof(ADMIN_FILE) + 1];
	char		 line[2 * MSG_ADMIN_MAX + 2];
	uint8_t		 rec[2 + MSG_ADMIN_MAX];
	size_t		 off, k, n;
	unsigned int	 i;
	int		 fd, bad = 0;

	if (a->dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%s", a->dir, ADMIN_FILE);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1)
		bad = 1;
	for (i = 0; !bad && i < a->n; i++) {
		off = 0;
		if (msg_admin_put(rec, sizeof(rec), &off, &a->rec[i]) == -1)
			continue;
		for (k = 2; k < off; k++)
			snprintf(line + 2 * (k - 2), 3, "%02x", rec[k]);
		n = 2 * (off - 2);
		line[n++] = '\n';
		if (write(fd, line, n) != (ssize_t)n)
			bad = 1;
	}
	if (!bad && fsync(fd) == -1)
		bad = 1;
	if (bad) {
		a->stats.admin_save_errors++;
		log_warnx("admin: cannot write %s: %s (the cluster-wide "
		    "server state is kept in memory and by the other members)",
		    path, strerror(errno));
	}
	if (fd != -1)
		close(fd);
}

/* A hex digit's value, or -1. */
static int
admin_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

int
admin_load(struct admin *a, char **cause)
{
	char			 line[2 * MSG_ADMIN_MAX + 4];
	char			 path[PATH_MAX + sizeof(ADMIN_FILE) + 1];
	uint8_t			 rec[MSG_ADMIN_MAX];
	struct msg_admin	 r;
	FILE			*f;
	size_t			 len, k;
	int			 n = 0, lineno = 0, hi, lo;

	if (a->dir[0] == '\0')
		return (0);
	snprintf(path, sizeof(path), "%s/%s", a->dir, ADMIN_FILE);
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return (0);
		return (util_cause(cause, "%s/%s: %s", a->dir, ADMIN_FILE,
		    strerror(errno)));
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		len = strcspn(line, "\n");
		line[len] = '\0';
		for (k = 0; k + 1 < len + 1 && k / 2 < sizeof(rec); k += 2) {
			if ((hi = admin_hex(line[k])) == -1 ||
			    (lo = admin_hex(line[k + 1])) == -1)
				break;
			rec[k / 2] = (uint8_t)(hi << 4 | lo);
		}
		if (len % 2 != 0 || k != len ||
		    msg_admin_get(rec, len / 2, &r) == -1) {
			log_warnx("admin: %s/%s:%d: not an ADMIN record: "
			    "ignored", a->dir, ADMIN_FILE, lineno);
			continue;
		}
		if (r.version > a->clock)
			a->clock = r.version;
		if (admin_lookup(a, r.service, &r.server) != NULL ||
		    a->n == ADMIN_RECS_MAX || admin_apply(a, &r) == -1)
			continue;	/* twice, full, or gone from the config */
		a->rec[a->n++] = r;
		n++;
	}
	fclose(f);
	return (n);
}

int
admin_command(struct admin *a, const char *service, const struct ilb_addr *s,
    int drained, int weight, uint64_t realtime_ms, struct msg_admin *out)
{
	struct msg_admin	 r, *cur;
	unsigned int		 svc, srv;

	memset(&r, 0, sizeof(r));
	if (strlen(service) > MSG_ADMIN_NAME_MAX)
		return (-1);
	util_strlcpy(r.service, service, sizeof(r.service));
	r.server = *s;
	if (admin_where(a, &r, &svc, &srv) == -1)
		return (-1);
	if ((cur = admin_lookup(a, service, s)) != NULL) {
		r.flags = cur->flags;
		r.weight = cur->weight;
	} else if (a->n == ADMIN_RECS_MAX) {
		a->stats.admin_full++;
		return (-1);
	}
	if (drained >= 0) {
		r.flags &= (uint8_t)~MSG_ADMIN_F_DRAINED;
		r.flags |= MSG_ADMIN_F_DRAIN |
		    (drained ? MSG_ADMIN_F_DRAINED : 0);
	}
	if (weight >= 0) {
		r.flags |= MSG_ADMIN_F_WEIGHT;
		r.weight = (uint16_t)weight;
	}
	r.version = realtime_ms > a->clock ? realtime_ms : a->clock + 1;
	a->clock = r.version;
	r.origin = a->self;
	if (cur == NULL)
		cur = &a->rec[a->n++];
	*cur = r;
	(void)admin_apply(a, cur);
	admin_save(a);
	a->stats.admin_commands++;
	a->burst = ADMIN_BURST;
	(void)admin_announce(a);
	a->burst--;
	if (out != NULL)
		*out = r;
	return (0);
}

/* One record from another member: kept and applied if newer. */
static void
admin_take(struct admin *a, const struct msg_admin *r)
{
	struct msg_admin	*cur;
	unsigned int		 svc, srv;
	char			 o[ILB_ADDRSTRLEN], s[ILB_ADDRSTRLEN];
	char			 w[16] = "";

	a->stats.admin_records_in++;
	if (r->version > a->clock)
		a->clock = r->version;
	if ((cur = admin_lookup(a, r->service, &r->server)) != NULL &&
	    msg_admin_cmp(r, cur) <= 0) {
		a->stats.admin_stale++;
		return;
	}
	if (admin_where(a, r, &svc, &srv) == -1) {
		a->stats.admin_unknown++;
		log_debug("admin: record for server %s of %s dropped: not in "
		    "the configuration", util_addr_fmt(&r->server, s,
		    sizeof(s)), r->service);
		return;
	}
	if (cur == NULL) {
		if (a->n == ADMIN_RECS_MAX) {
			a->stats.admin_full++;
			return;
		}
		cur = &a->rec[a->n++];
	}
	*cur = *r;
	(void)admin_apply(a, cur);
	admin_save(a);
	a->stats.admin_applied++;
	if (r->flags & MSG_ADMIN_F_WEIGHT)
		snprintf(w, sizeof(w), " weight %u", (unsigned int)r->weight);
	log_info("admin: server %s of %s:%s%s (cluster-wide, from %s, "
	    "version %llu)", util_addr_fmt(&r->server, s, sizeof(s)),
	    r->service, (r->flags & MSG_ADMIN_F_DRAIN) ?
	    ((r->flags & MSG_ADMIN_F_DRAINED) ? " drained" : " enabled") : "",
	    w, msg_id_fmt(&r->origin, o, sizeof(o)),
	    (unsigned long long)r->version);
	if (r->flags & MSG_ADMIN_F_DRAIN)
		ilbd_event_server((r->flags & MSG_ADMIN_F_DRAINED) ?
		    ILBD_EV_SERVER_DRAIN : ILBD_EV_SERVER_ENABLE, r->service,
		    &r->server, -1, "cluster");
	if (r->flags & MSG_ADMIN_F_WEIGHT)
		ilbd_event_server(ILBD_EV_SERVER_WEIGHT, r->service,
		    &r->server, (int)r->weight, "cluster");
}

void
admin_input(struct admin *a, const struct msg_view *v)
{
	struct msg_admin	 r;
	const uint8_t		*rec;
	size_t			 off = 0, len;

	/* msg_decode() checked every record */
	while (msg_rec_next(v, &off, &rec, &len) == 1)
		if (msg_admin_get(rec, len, &r) == 0)
			admin_take(a, &r);
}

int
admin_announce(struct admin *a)
{
	uint8_t		body[MSG_BODY_MAX];
	size_t		off = 0;
	unsigned int	i;
	int		rv = 0;

	for (i = 0; i < a->n; i++) {
		if (msg_admin_put(body, sizeof(body), &off, &a->rec[i]) == 0)
			continue;
		if (off > 0 && a->send(a->arg, body, off) == 0)
			a->stats.admin_sent++;
		else
			rv = -1;
		off = 0;
		if (msg_admin_put(body, sizeof(body), &off, &a->rec[i]) == -1)
			rv = -1;
	}
	if (off > 0) {
		if (a->send(a->arg, body, off) == 0)
			a->stats.admin_sent++;
		else
			rv = -1;
	}
	return (rv);
}

void
admin_tick(struct admin *a, uint64_t now)
{
	if (a->n == 0)
		return;
	if (a->burst > 0)
		a->burst--;
	else if (now < a->next_ms)
		return;
	a->next_ms = now + ADMIN_ANNOUNCE_MS;
	(void)admin_announce(a);
}

/*
 * Two ticks: the newcomer drops what comes before it heard our ID (an
 * unknown sender), and it should know the state before it owns anything.
 */
void
admin_member_joined(struct admin *a)
{
	if (a->burst < ADMIN_BURST - 1)
		a->burst = ADMIN_BURST - 1;
}

void
admin_reload(struct admin *a)
{
	unsigned int	i, svc, srv, n = a->n;

	for (i = 0; i < a->n; ) {
		if (admin_where(a, &a->rec[i], &svc, &srv) == -1) {
			a->rec[i] = a->rec[--a->n];
			continue;
		}
		(void)admin_apply(a, &a->rec[i]);
		i++;
	}
	if (a->n != n)
		admin_save(a);
}

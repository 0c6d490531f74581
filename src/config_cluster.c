/* config_cluster.c: cluster.peers, the members reached by unicast;
 * cluster.key_file_next (key rotation); the icmp group (answers to ping). */
#include <sys/socket.h>

#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "icmp.h"
#include "util.h"

static const char *
config_family_name(int family)
{
	return (family == AF_INET6 ? "IPv6" : "IPv4");
}

/* Element i of peers (l) into c->peers[i]: unicast, the group's family. */
static int
config_peer(struct config_ctx *ctx, const config_setting_t *l, unsigned int i)
{
	struct cluster_conf	*c = &ctx->conf->cluster;
	const config_setting_t	*e = config_setting_get_elem(l, i);
	const char		*str, *why;
	struct ilb_addr		*a = &c->peers[i];
	char			 g[ILB_ADDRSTRLEN], w[32];
	unsigned int		 j;

	if (config_setting_type(e) != CONFIG_TYPE_STRING)
		return (config_err(ctx, e, "peers: element %u is %s, not an "
		    "address string", i + 1, config_type_name(e)));
	str = config_setting_get_string(e);
	if (util_addr_parse(str, a) == -1)
		return (config_err(ctx, e, "peers: \"%s\" is not an IPv4 or "
		    "IPv6 address", str));
	if ((why = config_addr_bad(a)) != NULL)
		return (config_err(ctx, e, "peers: \"%s\" is %s", str, why));
	if (a->family != c->group.family)
		return (config_err(ctx, e, "peers: \"%s\" is %s but the cluster "
		    "is %s (cluster.group %s): every peer must be of the "
		    "group's family (set an %s group to run the cluster over "
		    "%s)", str, config_family_name(a->family),
		    config_family_name(c->group.family),
		    util_addr_fmt(&c->group, g, sizeof(g)),
		    config_family_name(a->family),
		    config_family_name(a->family)));
	for (j = 0; j < i; j++)
		if (util_addr_eq(&c->peers[j], a))
			return (config_err(ctx, e, "peers: \"%s\" is listed "
			    "twice (first at %s)", str, config_where(
			    config_setting_get_elem(l, j), e, w, sizeof(w))));
	return (0);
}

/*
 * cluster.peers: an array or list of 1..CONF_PEERS_MAX member addresses
 * (this node's own may be among them).  Absent: multicast to the group.
 */
int
config_parse_peers(struct config_ctx *ctx, const config_setting_t *g)
{
	struct cluster_conf	*c = &ctx->conf->cluster;
	const config_setting_t	*l = config_member(g, "peers");
	unsigned int		 i, n;

	c->npeers = 0;
	if (l == NULL)
		return (0);
	if (config_setting_type(l) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(l) != CONFIG_TYPE_LIST)
		return (config_err(ctx, l, "peers: expected an array of "
		    "addresses [ \"192.0.2.11\", ... ], not %s",
		    config_type_name(l)));
	if ((n = (unsigned int)config_setting_length(l)) == 0)
		return (config_err(ctx, l, "peers: empty (leave it out to "
		    "use multicast)"));
	if (n > CONF_PEERS_MAX)
		return (config_err(ctx, l, "peers: %u addresses, at most %d",
		    n, CONF_PEERS_MAX));
	for (i = 0; i < n; i++)
		if (config_peer(ctx, l, i) == -1)
			return (-1);
	c->npeers = n;
	return (0);
}

/* peers = [ ... ]; in the dump, when set. */
void
config_dump_peers(const struct cluster_conf *c, FILE *fp)
{
	char		a[ILB_ADDRSTRLEN];
	unsigned int	i;

	if (c->npeers == 0)
		return;
	fputs("  peers = [", fp);
	for (i = 0; i < c->npeers; i++)
		fprintf(fp, "%s \"%s\"", i > 0 ? "," : "",
		    util_addr_fmt(&c->peers[i], a, sizeof(a)));
	fputs(" ];\n", fp);
}

/*
 * cluster.key_file_next: a second key file, relative to the config file's
 * directory like key_file. Messages and handoffs made with its key are
 * accepted beside key_file's; everything is still sent with key_file's.
 * "" or absent: none. Read by config_read_key_next() once key_file is.
 */
int
config_parse_key_next(struct config_ctx *ctx, const config_setting_t *g)
{
	struct cluster_conf	*c = &ctx->conf->cluster;
	const config_setting_t	*s = config_member(g, "key_file_next");
	const char		*file = NULL;
	int			 n;

	if (config_get_str(ctx, g, "key_file_next", &file) == -1)
		return (-1);
	if (file == NULL || *file == '\0')
		return (0);
	if (*file == '/')
		n = (int)util_strlcpy(c->key_file_next, file,
		    sizeof(c->key_file_next));
	else
		n = snprintf(c->key_file_next, sizeof(c->key_file_next),
		    "%s/%s", ctx->dir, file);
	if (n < 0 || (size_t)n >= sizeof(c->key_file_next))
		return (config_err(ctx, s, "key_file_next: path too long"));
	ctx->key_next_at = s;
	return (0);
}

/*
 * The next key, read as key_file is (same checks, errors at the
 * key_file_next line naming its file): key_file's reader, pointed at it.
 */
int
config_read_key_next(struct config_ctx *ctx)
{
	struct cluster_conf	*c = &ctx->conf->cluster;
	const config_setting_t	*at = ctx->key_at;
	char			 path[PATH_MAX];
	int			 rv;

	if (!c->authenticate || c->key_file_next[0] == '\0')
		return (0);
	memcpy(path, c->key_file, sizeof(path));
	memcpy(c->key_file, c->key_file_next, sizeof(c->key_file));
	ctx->key_at = ctx->key_next_at;
	rv = config_read_key_file(ctx, c->key_next);
	memcpy(c->key_file, path, sizeof(c->key_file));
	ctx->key_at = at;
	if (rv == 0)
		c->has_key_next = 1;
	return (rv);
}

void
config_dump_key_next(const struct cluster_conf *c, FILE *fp)
{
	if (c->key_file_next[0] != '\0')
		fprintf(fp, "  key_file_next = \"%s\";\n", c->key_file_next);
}

static const char *const config_icmp_keys[] = { "echo_rate", NULL };

/* icmp = { echo_rate = N; }: echo replies from a VIP a second, 0 = none. */
int
config_parse_icmp(struct config_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t	*g;

	ctx->conf->icmp.echo_rate = ICMP_ECHO_RATE;
	if (config_get_aggr(ctx, root, "icmp", CONFIG_TYPE_GROUP, &g) == -1)
		return (-1);
	if (g == NULL)
		return (0);
	if (config_check_keys(ctx, g, config_icmp_keys, "in icmp") == -1)
		return (-1);
	return (config_get_u32(ctx, g, "echo_rate", 0, ICMP_ECHO_RATE_MAX,
	    NULL, &ctx->conf->icmp.echo_rate));
}

void
config_dump_icmp(const struct ilbd_conf *conf, FILE *fp)
{
	fprintf(fp, "icmp = {\n  echo_rate = %u;\n};\n",
	    conf->icmp.echo_rate);
}

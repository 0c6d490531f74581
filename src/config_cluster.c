/* config_cluster.c: cluster.peers, the members reached by unicast; the
 * icmp group (answers to ping). */
#include <sys/socket.h>

#include <libconfig.h>
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

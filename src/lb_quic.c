/* lb_quic.c: QUIC connection-ID routing on UDP services (QUIC-LB). */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "lb.h"
#include "lb_int.h"
#include "packet.h"
#include "quic_lb.h"
#include "sched.h"

#define LB_QUIC_FORM_LONG	0x80	/* header form bit: long header */

/*
 * issue 22: a short header's destination connection ID carries, in the
 * plaintext QUIC-LB encoding, the server ID of the server that issued
 * it. Routing by it is stateless: any ILB sends the packet to that
 * server, whether it owns the 4-tuple or not, with no table entry and
 * no cluster message; a client whose address changes (NAT rebinding,
 * migration) keeps its server. Long headers (the handshake, whose DCID
 * the client chose), connection IDs that do not decode, unknown server
 * IDs and servers the scheduler may not use (down, drained, weight 0,
 * removed by a reload) go by the 4-tuple. Per packet: no allocation, one
 * hash of the server ID and a probe of the service's quic_idx, built at
 * load and reload (lb_reload.c).
 */
int
lb_quic_server(const struct lb_service *s, const struct pkt_info *pi)
{
	const struct service_conf	*c = s->conf;
	const struct lb_server		*v;
	struct quic_hdr			 h;
	uint8_t				 sid[QUIC_LB_SID_MAX];
	size_t				 len, cidlen, sidlen;
	uint32_t			 hv, k;
	unsigned int			 j;

	if (pi->udp_data == NULL || c->nquic_lb == 0 || s->quic_idx == NULL)
		return (-1);
	len = PKT_DATA_LEN(pi);
	if (len < 2 || (pi->udp_data[0] & LB_QUIC_FORM_LONG) != 0)
		return (-1);
	if ((cidlen = quic_lb_short_cidlen(c->quic_lb, c->nquic_lb,
	    pi->udp_data[1])) == 0)
		return (-1);
	if (quic_parse(pi->udp_data, len, cidlen, &h) == -1 ||
	    h.form != QUIC_SHORT)
		return (-1);
	if (quic_lb_decode(c->quic_lb, c->nquic_lb, h.dcid, h.dcid_len, sid,
	    &sidlen) == -1)
		return (-1);
	hv = lb_quic_hash(sid, sidlen);
	for (k = 0; k <= s->quic_mask; k++) {
		if ((j = s->quic_idx[(hv + k) & s->quic_mask]) == 0)
			return (-1);	/* no server has this ID */
		v = &s->srv[--j];
		if (v->conf->quic_sid_len != sidlen ||
		    memcmp(v->conf->quic_sid, sid, sidlen) != 0)
			continue;
		return (sched_server_eligible(v->sched) ? (int)j : -1);
	}
	return (-1);
}

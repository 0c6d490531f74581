/* peer.h: reliable unicast channel between members (TCP, authenticated). */
#ifndef ILBD_PEER_H
#define ILBD_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "counter.h"
#include "flow.h"
#include "msg.h"
#include "util.h"

#define PEER_MSG_MAX		MSG_MAX_LEN	/* largest message accepted */
#define PEER_QUEUE_MAX		(64U << 20)	/* default bytes queued per peer */
#define PEER_BACKOFF_MS		200	/* at most one connect per peer per */
#define PEER_CONNECT_MS		3000	/* connect attempt timeout */
#define PEER_INCOMING_MAX	1024	/* accepted connections at once */
#define PEER_SENDERS_MAX	1024	/* sender ids tracked against replay */

struct event_base;
struct peer;

/*
 * Every counter once: X(name, help), as in stats.h.  sent and bytes_out
 * count messages accepted by peer_send(); lost counts queued bytes thrown
 * away unsent (a connection that failed after it was established, or
 * peer_drop()).  received and bytes_in count messages handed to the
 * callback.  Add new counters at the end.
 */
#define PEER_STATS_FOREACH(X)						\
	X(sent, "messages queued for a peer")				\
	X(bytes_out, "bytes of messages queued for a peer")		\
	X(received, "messages received and accepted")			\
	X(bytes_in, "bytes of messages received and accepted")		\
	X(rejected, "messages rejected, all reasons (connection closed)") \
	X(rejected_decode, "rejected: bad framing, version, type, sender")	\
	X(rejected_auth, "rejected: bad, missing or unexpected MAC")	\
	X(rejected_replay, "rejected: old epoch or sequence for sender")	\
	X(rejected_size, "rejected: announced length over the bound")	\
	X(connects, "outgoing connections established")			\
	X(connect_failures, "outgoing connections that failed or timed out") \
	X(accepts, "incoming connections accepted")			\
	X(accept_errors, "accept() failures")				\
	X(accept_refused, "incoming connections over the limit")	\
	X(disconnects, "established connections closed or failed")	\
	X(queue_full, "peer_send refused: queue over its bound")	\
	X(lost, "queued bytes discarded unsent")			\
	X(send_errors, "peer_send refused: bad address or no socket")	\
	X(received_key_next, "accepted, verified with cluster.key_file_next's key")

struct peer_stats {
#define PEER_STATS_FIELD(name, help)	uint64_t name;
	PEER_STATS_FOREACH(PEER_STATS_FIELD)
#undef PEER_STATS_FIELD
};

/*
 * Called for each accepted message: the decoded view, the raw message
 * (view->len bytes, MAC included; valid only during the call) and the
 * remote address of the connection it came on.  The callback may call
 * peer_send() and peer_drop(), not peer_close().
 */
typedef void	(*peer_msg_cb)(void *, const struct msg_view *,
		    const uint8_t *, const struct ilb_addr *);

/*
 * Listen on TCP node.address (any address, IPv6 and IPv4, when unset)
 * port cluster.port.  Every incoming message must decode, verify (MAC
 * with cluster.key when cluster.authenticate) and carry a sequence number
 * higher than the last one seen for its sender id and epoch (an older
 * epoch is refused too); otherwise it is dropped, counted and its
 * connection closed.  Returns NULL with *cause set (malloc'd) on failure.
 */
struct peer	*peer_open(struct event_base *, const struct ilbd_conf *,
		    const struct member_id *, uint64_t, peer_msg_cb, void *,
		    char **);
/*
 * Encode a message (our id, epoch, next sequence number, MAC) and queue it
 * on the outgoing connection to to:port, connecting on demand (at most
 * once per PEER_BACKOFF_MS per destination).  Messages queued before the
 * connection is up are kept across failed connect attempts and sent once
 * one succeeds; bytes still queued when an established connection fails
 * are discarded (counted in lost) since the remote dropped any partial
 * message.  Returns 0, or -1 if the body is too large, the queue would
 * exceed its bound (queue_full) or no socket can be made (send_errors).
 */
int		 peer_send(struct peer *, const struct ilb_addr *, uint16_t,
		    uint8_t, const uint8_t *, size_t);
/* Bytes not yet written to the outgoing connection(s) to to, any port. */
size_t		 peer_queued(const struct peer *, const struct ilb_addr *);
/* The member is gone: close its connections both ways, discard its queue. */
void		 peer_drop(struct peer *, const struct ilb_addr *);
/* Close every connection and the listener, free. */
void		 peer_close(struct peer *);
/*
 * The keys from conf (a reload): messages are sent with cluster.key,
 * accepted under it or cluster.key_next (key rotation).
 */
void		 peer_set_keys(struct peer *, const struct ilbd_conf *);
const struct peer_stats *peer_stats(const struct peer *);
/* PEER_STATS_FOREACH as a counter table, for export. */
extern const struct counter_desc peer_counters[];

/* The bound on bytes queued per destination (default PEER_QUEUE_MAX). */
void		 peer_set_queue_max(struct peer *, size_t);
/* The port listened on (useful when cluster.port was 0, as in tests). */
uint16_t	 peer_local_port(const struct peer *);

#endif

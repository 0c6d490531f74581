/* metrics.h: the Prometheus /metrics endpoint and its text renderer. */
#ifndef ILBD_METRICS_H
#define ILBD_METRICS_H

#include <stdint.h>

#include "config.h"
#include "counter.h"

struct daemon;
struct evbuffer;
struct event_base;
struct metrics;

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define METRICS_PATH		"/metrics"
#define METRICS_MAX_HEADERS	8192	/* bytes of request line + headers */
#define METRICS_MAX_BODY	1024	/* bytes of request body */
#define METRICS_TIMEOUT_S	10	/* idle connection timeout */

/* Something that enumerates counters, as daemon_foreach_counter() does. */
typedef void	(*metrics_foreach_fn)(void *, dp_counter_cb, void *);

/*
 * Listen on conf's metrics.listen and serve the daemon's counters at
 * /metrics. conf and the daemon must outlive the endpoint.  With metrics
 * disabled (listen = "") it returns a valid handle that serves nothing,
 * so the caller needs no special case.  Returns NULL with *cause set (malloc'd),
 * e.g. "metrics.listen 127.0.0.1:9650: Address already in use".
 */
struct metrics	*metrics_open(struct event_base *, const struct ilbd_conf *,
		    struct daemon *, char **);
/* Serve what fn(arg, ...) enumerates on fd, a listening socket (taken). */
struct metrics	*metrics_open_fd(struct event_base *, int, metrics_foreach_fn,
		    void *, char **);
void		 metrics_close(struct metrics *);

/*
 * Render everything fn(arg, ...) enumerates as Prometheus text 0.0.4:
 * names and labels from metrics_map (metrics_map.c: reasons as labels,
 * units in names), else ilbd_<sub>_<name> (ilbd_<name> when sub is ""),
 * sanitised to [a-zA-Z0-9_], "_total" appended to counters; one # HELP
 * and # TYPE per family, a family's samples together in the order of its
 * first one. Label values in struct dp_counter are raw (unescaped)
 * k="v",k="v": the renderer escapes them; a sample whose labels do not
 * parse is left out. Returns 0, or -1 when out of memory.
 */
int		 metrics_render(struct evbuffer *, metrics_foreach_fn, void *);

/*
 * The same with a layout kept between calls: names, labels and headers
 * are built on the first call and again only when the enumeration
 * changes (other samples, other labels); otherwise a call takes the
 * values and prints.
 */
struct metrics_layout;
struct metrics_layout *metrics_layout_new(void);
void		 metrics_layout_free(struct metrics_layout *);
int		 metrics_render_layout(struct evbuffer *, struct metrics_layout *,
		    metrics_foreach_fn, void *);
/* How many times the layout was built. */
uint64_t	 metrics_layout_builds(const struct metrics_layout *);

#endif

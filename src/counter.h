/* counter.h: each module's counters, described in one table, for export. */
#ifndef ILBD_COUNTER_H
#define ILBD_COUNTER_H

#include <stddef.h>
#include <stdint.h>

enum dp_metric_type { DP_COUNTER, DP_GAUGE };

/* One counter or gauge, for the stats line, ilbctl and /metrics. */
struct dp_counter {
	const char		*sub;	/* module: lb, dp, cluster, repl, ... */
	const char		*name;	/* within the module */
	const char		*help;	/* one line */
	enum dp_metric_type	 type;
	const char		*labels; /* "" or k="v",k="v" (Prometheus) */
	uint64_t		 value;
};
typedef void	(*dp_counter_cb)(void *, const struct dp_counter *);

/*
 * One counter of a module: its name, a stable label (the stats line,
 * ilbctl show stats, /metrics as ilbd_<sub>_<name>[_total]), one line of
 * help, and where its value is in the object the module exports: a
 * uint64_t at off, or what get() derives from the object (a sum, a
 * table's size). A table is an array ended by COUNTER_END.
 */
struct counter_desc {
	const char		*name;		/* NULL: the end */
	const char		*help;
	enum dp_metric_type	 type;
	size_t			 off;		/* of a uint64_t in the object */
	uint64_t		(*get)(const void *);	/* if set, not off */
	const char		*sub;		/* if set, not the source's */
};

/* A table entry from an X(name, help) list over struct st's fields. */
#define COUNTER_FIELD(st, name, help)					\
	{ #name, help, DP_COUNTER, offsetof(st, name), NULL, NULL },
#define COUNTER_END	{ NULL, NULL, DP_COUNTER, 0, NULL, NULL }

/* What one module exports: its table over its live object. */
struct counter_src {
	const char			*sub;	/* lb, dp, cluster, gre, ... */
	const struct counter_desc	*desc;
	const void			*obj;	/* NULL: not there, skipped */
};

/* The value of d in obj. */
uint64_t	 counter_value(const struct counter_desc *, const void *);
/* Every counter of src[0..n), in order, without labels. */
void		 counter_walk(const struct counter_src *, size_t,
		    dp_counter_cb, void *);

#endif

/* counter_ext.c: the counter tables of health and control (show stats). */
#include <stddef.h>

#include "control.h"
#include "counter.h"
#include "daemon.h"
#include "health.h"

const struct counter_desc health_counters[] = {
#define HEALTH_COUNTER_FIELD(name, help)				\
	COUNTER_FIELD(struct health_stats, name, help)
	HEALTH_STATS_FOREACH(HEALTH_COUNTER_FIELD)
#undef HEALTH_COUNTER_FIELD
	COUNTER_END
};

const struct counter_desc control_counters[] = {
#define CONTROL_COUNTER_FIELD(name, help)				\
	COUNTER_FIELD(struct control_stats, name, help)
	CONTROL_STATS_FOREACH(CONTROL_COUNTER_FIELD)
#undef CONTROL_COUNTER_FIELD
	COUNTER_END
};

/* counter.c: walk the modules' counter tables for export. */
#include <string.h>

#include "counter.h"

uint64_t
counter_value(const struct counter_desc *d, const void *obj)
{
	uint64_t	v;

	if (d->get != NULL)
		return (d->get(obj));
	memcpy(&v, (const char *)obj + d->off, sizeof(v));
	return (v);
}

void
counter_walk(const struct counter_src *src, size_t n, dp_counter_cb cb,
    void *arg)
{
	const struct counter_desc	*d;
	struct dp_counter		 c;
	size_t				 i;

	for (i = 0; i < n; i++) {
		if (src[i].obj == NULL)
			continue;
		for (d = src[i].desc; d->name != NULL; d++) {
			c.sub = d->sub != NULL ? d->sub : src[i].sub;
			c.name = d->name;
			c.help = d->help;
			c.type = d->type;
			c.labels = "";
			c.value = counter_value(d, src[i].obj);
			cb(arg, &c);
		}
	}
}

/* SPDX-License-Identifier: ISC */
#include "lib/ratelim.h"

void
ratelim_init(struct ratelim *r, uint32_t burst, uint32_t period_ms)
{
	r->window_ms = 0;
	r->count = 0;
	r->burst = burst;
	r->period_ms = period_ms;
	r->suppressed = 0;
	r->suppressed_total = 0;
}

int
ratelim_allow(struct ratelim *r, uint64_t now_ms, uint64_t *suppressed)
{
	if (now_ms < r->window_ms || now_ms - r->window_ms >= r->period_ms) {
		r->window_ms = now_ms;
		r->count = 0;
	}
	if (r->count >= r->burst) {
		r->suppressed++;
		r->suppressed_total++;
		return 0;
	}
	r->count++;
	*suppressed = r->suppressed;
	r->suppressed = 0;
	return 1;
}

int
ratelim_flush(struct ratelim *r, uint64_t now_ms, uint64_t *suppressed)
{
	if (r->suppressed == 0 ||
	    (now_ms >= r->window_ms && now_ms - r->window_ms < r->period_ms))
		return 0;
	*suppressed = r->suppressed;
	r->suppressed = 0;
	return 1;
}

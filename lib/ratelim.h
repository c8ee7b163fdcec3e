/* SPDX-License-Identifier: ISC */
/*
 * Rate limiting of repeated log records, so a hostile peer cannot flood
 * the audit trail. Suppressed records are counted, and the count is
 * reported with the next record that gets through.
 */
#ifndef VNET_LIB_RATELIM_H
#define VNET_LIB_RATELIM_H

#include <stdint.h>

struct ratelim {
	uint64_t	 window_ms;	/* start of the current window */
	uint32_t	 count;		/* records let through in it */
	uint32_t	 burst;		/* records allowed per window */
	uint32_t	 period_ms;	/* window length */
	uint64_t	 suppressed;	/* since the last record let through */
	uint64_t	 suppressed_total;
};

void	 ratelim_init(struct ratelim *, uint32_t burst, uint32_t period_ms);
/*
 * 1: log it, and *suppressed says how many were held back before it.
 * 0: suppress it (counted).
 */
int	 ratelim_allow(struct ratelim *, uint64_t now_ms, uint64_t *suppressed);
/*
 * 1 when a window has ended with records held back and nothing since
 * has reported them: *suppressed says how many (then they count as
 * reported). Lets a burst's tail be logged without waiting for another.
 */
int	 ratelim_flush(struct ratelim *, uint64_t now_ms, uint64_t *suppressed);

#endif

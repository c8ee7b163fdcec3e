/* SPDX-License-Identifier: ISC */
/*
 * The monitor's time: restart delays, client deadlines and uptime, all
 * as struct timespec on CLOCK_MONOTONIC (wall-clock steps move none of
 * them), in milliseconds. One set, so every deadline rounds alike.
 */
#ifndef VNET_MONITOR_CLOCK_H
#define VNET_MONITOR_CLOCK_H

#include <time.h>

/* Milliseconds from a to b; negative when b is before a. */
static inline long
ts_ms_diff(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* t += ms (ms >= 0), tv_nsec kept below one second. */
static inline void
ts_add_ms(struct timespec *t, long ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

/* Milliseconds since t. */
static inline long
ts_ms_since(const struct timespec *t)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ts_ms_diff(t, &now);
}

/* t = now + ms: a deadline. */
static inline void
ts_deadline(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	ts_add_ms(t, ms);
}

#endif

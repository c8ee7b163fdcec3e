/* SPDX-License-Identifier: ISC */
/*
 * Logging. The monitor alone writes to syslog (or stderr with -d);
 * workers hand their records to the monitor as MSG_LOG messages.
 * Records are one line, "event=NAME key=value ...".
 */
#ifndef VNET_PRIVSEP_LOG_H
#define VNET_PRIVSEP_LOG_H

#include <stdarg.h>
#include <syslog.h>

/* Text from outside goes into a record through lib/logsafe.h's rule. */
#include "lib/logsafe.h"

/* Record classes: security events go to the audit facility. */
enum log_class {
	LOGC_OPS = 0,		/* operational: LOG_DAEMON */
	LOGC_AUDIT = 1,		/* security-relevant: LOG_AUTHPRIV */
};

#define LOG_LINE_MAX	1024

void	 log_init_monitor(int to_stderr, int verbose);
void	 log_init_worker(int monitor_fd, const char *role);
void	 log_set_verbose(int verbose);
/* Monitor: syslog facilities for operational and for security records. */
void	 log_set_facilities(int ops, int audit_fac);
const char *log_role(void);

/* Operational records. */
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Appends ": strerror(errno)". */
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Security records (LOG_AUTHPRIV). */
void	 audit(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Never return. fatal() appends strerror(errno), fatalx() does not. */
void	 fatal(const char *, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));
void	 fatalx(const char *, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));

/* Monitor only: write one already formatted record. */
void	 log_emit(int prio, enum log_class cls, const char *line);

#endif

/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/log.h"
#include "privsep/msg.h"

static int	 log_stderr = 1;
static int	 log_verbose;
static int	 log_fd = -1;		/* worker: channel to the monitor */
static const char *log_rolename = "vnetd";
static int	 log_fac_ops = LOG_DAEMON;
static int	 log_fac_audit = LOG_AUTHPRIV;

void
log_set_facilities(int ops, int audit_fac)
{
	log_fac_ops = ops;
	log_fac_audit = audit_fac;
}

void
log_init_monitor(int to_stderr, int verbose)
{
	log_stderr = to_stderr;
	log_verbose = verbose;
	log_fd = -1;
	log_rolename = "vnetd";
	if (!to_stderr)
		openlog("vnetd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_init_worker(int monitor_fd, const char *role)
{
	log_fd = monitor_fd;
	log_rolename = role;
}

void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

const char *
log_role(void)
{
	return log_rolename;
}

void
log_emit(int prio, enum log_class cls, const char *line)
{
	if (log_stderr) {
		fprintf(stderr, "vnetd[%ld]: %s\n", (long)getpid(), line);
		return;
	}
	syslog(prio | (cls == LOGC_AUDIT ? log_fac_audit : log_fac_ops),
	    "%s", line);
}

static void
log_vrecord(int prio, enum log_class cls, const char *fmt, va_list ap,
    int with_errno)
{
	char	 line[LOG_LINE_MAX];
	int	 saved = errno, n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (with_errno && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		    strerror(saved));
	if (log_fd == -1) {
		log_emit(prio, cls, line);
		return;
	}
	/* Worker: the monitor attributes, sanitises and writes it. */
	if (msg_send_log(log_fd, prio, cls, line) == -1 && log_verbose)
		fprintf(stderr, "%s: lost log record: %s\n", log_rolename,
		    line);
}

/*
 * One body for every record function; `then` is what follows the
 * record: nothing, or for fatal() and fatalx() the end of the process.
 */
#define LOGFN(name, prio, cls, err, then)			\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
	va_start(ap, fmt);					\
	log_vrecord(prio, cls, fmt, ap, err);			\
	va_end(ap);						\
	then;							\
}
LOGFN(log_info, LOG_INFO, LOGC_OPS, 0, return)
LOGFN(log_warnx, LOG_WARNING, LOGC_OPS, 0, return)
LOGFN(log_warn, LOG_WARNING, LOGC_OPS, 1, return)
LOGFN(audit, LOG_NOTICE, LOGC_AUDIT, 0, return)
LOGFN(fatal, LOG_CRIT, LOGC_OPS, 1, exit(1))
LOGFN(fatalx, LOG_CRIT, LOGC_OPS, 0, exit(1))

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vrecord(LOG_DEBUG, LOGC_OPS, fmt, ap, 0);
	va_end(ap);
}

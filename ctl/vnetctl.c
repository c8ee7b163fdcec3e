/*
 * vnetctl: the operator's view of a running vnetd, through its control
 * socket. It sends one request line and prints the reply; the monitor
 * does the formatting (aligned text, or JSON with -j).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/ctlreq.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: vnetctl [-j] [-s socket] "
	    "status | links | macs | stats | reload\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	struct ctl_req		 req;
	const char		*path = CONF_CONTROL_DEFAULT, *why;
	char			 line[CTLREQ_MAX + 1], buf[65536];
	ssize_t			 n;
	size_t			 len;
	int			 ch, json = 0, fd, status = 0, first = 1;
	int			 rejected = 0;

	while ((ch = getopt(argc, argv, "js:")) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 's': path = optarg; break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	len = (size_t)snprintf(line, sizeof(line), "%s%s\n", argv[optind],
	    json ? " json" : "");
	/* Check here too, so a typo gets a clear word and no round trip. */
	if (len >= sizeof(line) || ctlreq_parse(line, len, &req, &why) == -1) {
		fprintf(stderr, "vnetctl: %s: %s\n", argv[optind],
		    len >= sizeof(line) ? "too long" : why);
		usage();
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vnetctl: %s: path too long\n", path);
		return 1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "vnetctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (write(fd, line, len) != (ssize_t)len) {
		fprintf(stderr, "vnetctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		/* The monitor marks a refusal with "error: " at the start. */
		if (first && n >= 7 && memcmp(buf, "error: ", 7) == 0)
			status = 1;
		/* A JSON refusal is still a refusal; it begins the reply. */
		if (first && json && req.cmd == CTL_RELOAD &&
		    strstr(buf, "{\"reload\":\"rejected\"") == buf)
			rejected = 1;
		first = 0;
		if (fwrite(buf, 1, (size_t)n, status ? stderr : stdout) !=
		    (size_t)n)
			return 1;
	}
	if (n == -1) {
		fprintf(stderr, "vnetctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (first) {
		fprintf(stderr, "vnetctl: %s: no reply\n", path);
		return 1;
	}
	if (rejected)
		status = 1;
	return status;
}

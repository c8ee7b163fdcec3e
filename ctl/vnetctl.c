/* SPDX-License-Identifier: ISC */
/*
 * vnetctl: the operator's view of a running vnetd, through its control
 * socket. It sends one request line and prints the reply; the monitor
 * does the formatting (aligned text, or JSON with -j). `metrics` is
 * vnetctl's own: it asks for the JSON of stats, links and macs and
 * rewrites it for Prometheus (ctl/metrics.c).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/json.h"
#include "ctl/metrics.h"
#include "lib/conf.h"
#include "lib/ctlreq.h"

/* vnetd@NAME.service binds /run/vnet/NAME over /run/vnetd (etc/vnetd@.service). */
#define CTL_INSTANCE_DIR	"/run/vnet"
#define CTL_INSTANCE_MAX	64
#define CTL_REPLY_MAX		(16 * 1024 * 1024)

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: vnetctl [-j] [-i instance | -s socket] "
	    "status | links | macs | stats | reload | metrics\n");
	exit(2);
}

/* A name systemd passes as %i unescaped, and a path component. */
static int
instance_ok(const char *name)
{
	size_t	 i, n = strlen(name);

	if (n == 0 || n > CTL_INSTANCE_MAX || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.-", name[i]) == NULL)
			return 0;
	return 1;
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vnetctl: %s: path too long\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "vnetctl: %s: %s\n", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send line, stream the reply to stdout (a refusal to stderr). */
static int
ctl_stream(const char *path, const char *line, size_t len,
    const struct ctl_req *req)
{
	char		 buf[65536];
	ssize_t		 n;
	int		 fd, status = 0, first = 1, rejected = 0;

	if ((fd = ctl_connect(path)) == -1)
		return 1;
	if (write(fd, line, len) != (ssize_t)len) {
		fprintf(stderr, "vnetctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		/* The monitor marks a refusal with "error: " at the start. */
		if (first && n >= 7 && memcmp(buf, "error: ", 7) == 0)
			status = 1;
		/* A JSON refusal is still a refusal; it begins the reply. */
		if (first && req->json && req->cmd == CTL_RELOAD &&
		    strstr(buf, "{\"reload\":\"rejected\"") == buf)
			rejected = 1;
		first = 0;
		if (fwrite(buf, 1, (size_t)n, status ? stderr : stdout) !=
		    (size_t)n) {
			close(fd);
			return 1;
		}
	}
	close(fd);
	if (n == -1) {
		fprintf(stderr, "vnetctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (first) {
		fprintf(stderr, "vnetctl: %s: no reply\n", path);
		return 1;
	}
	return status || rejected;
}

/* One JSON request, the whole reply parsed into j. */
static int
ctl_json(const char *path, const char *cmd, char **text, struct json *j)
{
	char		 line[CTLREQ_MAX + 1], *p = NULL, *np;
	size_t		 len = 0, cap = 0, llen;
	ssize_t		 n;
	const char	*why;
	int		 fd;

	*text = NULL;
	llen = (size_t)snprintf(line, sizeof(line), "%s json\n", cmd);
	if ((fd = ctl_connect(path)) == -1)
		return -1;
	if (write(fd, line, llen) != (ssize_t)llen)
		goto syserr;
	for (;;) {
		if (cap - len < 65536) {
			if (cap >= CTL_REPLY_MAX) {
				fprintf(stderr, "vnetctl: %s: %s reply too "
				    "long\n", path, cmd);
				goto fail;
			}
			cap = cap ? cap * 2 : 65536;
			if ((np = realloc(p, cap)) == NULL)
				goto syserr;
			p = np;
		}
		if ((n = read(fd, p + len, cap - len)) == -1)
			goto syserr;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len >= 7 && memcmp(p, "error: ", 7) == 0) {
		fprintf(stderr, "vnetctl: %s: %.*s", path, (int)len, p);
		free(p);
		return -1;
	}
	if (json_parse(p, len, j, &why) == -1) {
		fprintf(stderr, "vnetctl: %s: %s reply: %s\n", path, cmd, why);
		free(p);
		return -1;
	}
	*text = p;
	return 0;
syserr:
	fprintf(stderr, "vnetctl: %s: %s\n", path, strerror(errno));
fail:
	close(fd);
	free(p);
	return -1;
}

/*
 * Three requests, as close together as the monitor answers them: each
 * gets fresh worker reports. Nothing is printed unless all three came.
 */
static int
ctl_metrics(const char *path, const char *instance)
{
	static const char *const cmds[3] = { "stats", "links", "macs" };
	struct json		 j[3];
	struct metrics_in	 in;
	const char		*why;
	char			*text[3] = { NULL, NULL, NULL };
	int			 i, status = 1;

	memset(j, 0, sizeof(j));
	for (i = 0; i < 3; i++)
		if (ctl_json(path, cmds[i], &text[i], &j[i]) == -1)
			goto out;
	in.stats = &j[0];
	in.links = &j[1];
	in.macs = &j[2];
	in.instance = instance;
	if (metrics_write(stdout, &in, &why) == -1)
		fprintf(stderr, "vnetctl: %s: %s\n", path, why);
	else if (fflush(stdout) == EOF || ferror(stdout))
		fprintf(stderr, "vnetctl: stdout: %s\n", strerror(errno));
	else
		status = 0;
out:
	for (i = 0; i < 3; i++) {
		json_free(&j[i]);
		free(text[i]);
	}
	return status;
}

int
main(int argc, char *argv[])
{
	struct ctl_req		 req;
	const char		*path = CONF_CONTROL_DEFAULT, *why;
	const char		*instance = NULL;
	char			 line[CTLREQ_MAX + 1];
	char			 ipath[sizeof(CTL_INSTANCE_DIR) +
				    CTL_INSTANCE_MAX + 16];
	size_t			 len;
	int			 ch, json = 0, sflag = 0;

	while ((ch = getopt(argc, argv, "i:js:")) != -1) {
		switch (ch) {
		case 'i': instance = optarg; break;
		case 'j': json = 1; break;
		case 's': path = optarg; sflag = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (instance != NULL) {
		if (sflag) {
			fprintf(stderr, "vnetctl: -i and -s are exclusive\n");
			usage();
		}
		if (!instance_ok(instance)) {
			fprintf(stderr, "vnetctl: -i %s: an instance name is "
			    "1 to %d letters, digits, '_', '.' or '-', not "
			    "starting with '.'\n", instance, CTL_INSTANCE_MAX);
			usage();
		}
		snprintf(ipath, sizeof(ipath), "%s/%s/vnetd.sock",
		    CTL_INSTANCE_DIR, instance);
		path = ipath;
	}
	if (strcmp(argv[optind], "metrics") == 0) {
		if (json) {
			fprintf(stderr, "vnetctl: metrics: has one format, "
			    "-j does not apply\n");
			usage();
		}
		return ctl_metrics(path, instance);
	}
	len = (size_t)snprintf(line, sizeof(line), "%s%s\n", argv[optind],
	    json ? " json" : "");
	/* Check here too, so a typo gets a clear word and no round trip. */
	if (len >= sizeof(line) || ctlreq_parse(line, len, &req, &why) == -1) {
		fprintf(stderr, "vnetctl: %s: %s\n", argv[optind],
		    len >= sizeof(line) ? "too long" : why);
		usage();
	}
	return ctl_stream(path, line, len, &req);
}

/* SPDX-License-Identifier: ISC */
/* fatal() and fatalx(): the record they leave, and that they end the process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privsep/log.h"

/* Run fn in a child logging to stderr; its stderr text and exit status. */
static int
run_child(void (*fn)(void), char *out, size_t size)
{
	int	 fds[2], status;
	pid_t	 pid;
	ssize_t	 n;
	size_t	 used = 0;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		log_init_monitor(1, 0);
		fn();
		_exit(99);		/* fatal returned */
	}
	close(fds[1]);
	while (used + 1 < size &&
	    (n = read(fds[0], out + used, size - 1 - used)) > 0)
		used += (size_t)n;
	out[used] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
call_fatal(void)
{
	errno = ENOENT;
	fatal("event=error what=%s", "test");
}

static void
call_fatalx(void)
{
	errno = ENOENT;
	fatalx("event=error what=%s", "test");
}

static void
test_fatal(void **state)
{
	char	 out[256], want[256];

	(void)state;
	assert_int_equal(run_child(call_fatal, out, sizeof(out)), 1);
	snprintf(want, sizeof(want), ": event=error what=test: %s\n",
	    strerror(ENOENT));
	assert_non_null(strstr(out, want));
}

static void
test_fatalx(void **state)
{
	char	 out[256];

	(void)state;
	assert_int_equal(run_child(call_fatalx, out, sizeof(out)), 1);
	assert_non_null(strstr(out, ": event=error what=test\n"));
	assert_null(strstr(out, strerror(ENOENT)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fatal),
		cmocka_unit_test(test_fatalx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

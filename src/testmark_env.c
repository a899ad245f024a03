/*
 * testmark_env.c - the wrapped command's environment (see
 * testmark_export() in testmark.h): the tests' and the hooks' sockets
 * named, the runner plugins and the client hooks made to load by
 * themselves, after whatever the user set.
 */
#include "testmark.h"

#include "config.h"
#include "notice.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the command's environment ---- */

/* The directory of the runner plugins: beside an installed binary
 * (BIN/../share/pgdrip/runners), where meson installs them, or in the
 * build tree (BUILD/src/pgdrip -> BUILD/scripts/runners). */
static bool runners_dir(char *out, size_t size)
{
	static const char probe_name[] = "/pgdrip_pytest.py";
	char exe[PATH_MAX];
	char dir[PATH_MAX];
	char real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *bin;

	exe[n > 0 ? n : 0] = '\0';
	bin = n > 0 ? dirname(exe) : ".";
	for (int i = 0; i < 3; i++) {
		size_t len;

		if (i == 1) {
			snprintf(dir, sizeof(dir), "%s/runners",
				 PGDRIP_DATADIR);
		} else {
			snprintf(dir, sizeof(dir), "%s%s", bin,
				 i == 0 ? "/../share/pgdrip/runners"
					: "/../scripts/runners");
		}
		len = strlen(dir);
		if (len + sizeof(probe_name) > sizeof(dir)) {
			continue;
		}
		memcpy(dir + len, probe_name, sizeof(probe_name));
		if (access(dir, R_OK) != 0) {
			continue;
		}
		dir[len] = '\0';
		if (realpath(dir, real) != NULL && strlen(real) < size) {
			memcpy(out, real, strlen(real) + 1);
			return true;
		}
	}
	return false;
}

/* name=value, or name=value SEP old when name is set already. */
static void set_joined(const char *name, const char *value, const char *sep,
		       bool value_first)
{
	const char *old = getenv(name);
	char *joined;
	size_t len;

	if (old == NULL || old[0] == '\0') {
		setenv(name, value, 1);
		return;
	}
	len = strlen(old) + strlen(value) + strlen(sep) + 1;
	joined = xmalloc(len);
	snprintf(joined, len, "%s%s%s", value_first ? value : old, sep,
		 value_first ? old : value);
	setenv(name, joined, 1);
	free(joined);
}

/* " --require PATH", the path quoted when it holds a space (NODE_OPTIONS
 * reads double quotes as node's own command line does). */
static void export_node_require(const char *path)
{
	char opt[PATH_MAX + 32];

	snprintf(opt, sizeof(opt),
		 strpbrk(path, " \t") != NULL ? "--require \"%s\""
					      : "--require %s",
		 path);
	set_joined("NODE_OPTIONS", opt, " ", false);
}

static void export_plugins(void)
{
	const char *plugins = getenv("PYTEST_PLUGINS");
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];

	if (!runners_dir(dir, sizeof(dir))) {
		notice_say("the test runner plugins are not installed: tests "
			   "are named only by runners told by hand (see TESTS "
			   "in pgdrip(1))");
		return;
	}
	if (plugins == NULL || strstr(plugins, "pgdrip_pytest") == NULL) {
		set_joined("PYTEST_PLUGINS", "pgdrip_pytest", ",", false);
	}
	set_joined("PYTHONPATH", dir, ":", true);
	snprintf(path, sizeof(path), "%s/pgdrip-mocha.js", dir);
	setenv("PGDRIP_MOCHA_HOOKS", path, 1);
	snprintf(path, sizeof(path), "%s/pgdrip-jest.js", dir);
	setenv("PGDRIP_JEST_SETUP", path, 1);
	/* mocha, jest and node:test found as they load (pgdrip-runners.js) */
	snprintf(path, sizeof(path), "%s/pgdrip-runners.js", dir);
	if (access(path, R_OK) == 0) {
		export_node_require(path);
	}
}

/*
 * The client hooks: PGDRIP_HOOKS, the hooks' directory first in
 * PYTHONPATH (its sitecustomize.py chains to any other and imports
 * pgdrip_hooks), and node's --require appended to NODE_OPTIONS.  A hook
 * file that is not installed is not named: node would not start.
 */
static void export_hooks(const char *socket)
{
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
	const char *pythonpath = getenv("PYTHONPATH");

	setenv("PGDRIP_HOOKS", socket, 1);
	if (!runners_dir(dir, sizeof(dir))) {
		notice_say("the client hooks are not installed: leaks are "
			   "judged from the server's side alone");
		return;
	}
	snprintf(path, sizeof(path), "%s/sitecustomize.py", dir);
	if (access(path, R_OK) == 0 &&
	    (pythonpath == NULL ||
	     strncmp(pythonpath, dir, strlen(dir)) != 0)) {
		set_joined("PYTHONPATH", dir, ":", true);
	}
	snprintf(path, sizeof(path), "%s/pgdrip-hooks.js", dir);
	if (access(path, R_OK) == 0) {
		export_node_require(path);
	}
}

void testmark_export(const struct testmark *m)
{
	const char *off = getenv("PGDRIP_TEST_PLUGINS");
	const char *hooks = testmark_hooks_path(m);

	setenv("PGDRIP_TESTS", testmark_tests_path(m), 1);
	if (off == NULL || strcmp(off, "0") != 0) {
		export_plugins();
	}
	if (hooks != NULL) {
		export_hooks(hooks);
	}
}

"""Checks the lines pgdrip's client hooks sent against a program and the
server: prints one "ok DESC" or "not ok DESC" line a check (the test
turns them into TAP).

  check.py LINES PROGRAM PIDS.json OS_PID [SECRET]

LINES: what the listener read.  PROGRAM: the program's source, whose
"# @hook KIND LIB APP NEXT [COUNT]" comments say which events start at
that line: KIND open (LIB the library) or take (LIB the pool's class,
as its id starts); APP the application_name whose sessions
pg_stat_activity showed (PIDS.json: {"app": [pid, ...]}, read while the
program held them), "-" for none; NEXT the next event of the same
connection: close:HOW, give, lost, take or * (any); COUNT how many such
events (default 1).  OS_PID: the program's process id.
"""
import json
import os
import re
import sys

results = []


def check(ok, desc):
    results.append(("ok " if ok else "not ok ") + desc)


def main():
    lines_path, program, pids_path, os_pid = sys.argv[1:5]
    secret = sys.argv[5] if len(sys.argv) > 5 else "hunter2-secret"
    name = os.path.basename(program)
    raw = open(lines_path, "rb").read()
    events = []
    bad = 0
    for line in raw.split(b"\n")[:-1]:
        try:
            events.append(json.loads(line.decode("utf-8")))
        except ValueError:
            bad += 1
    check(raw.endswith(b"\n") and bad == 0 and events,
          "%s: %d lines, each one JSON object in UTF-8" % (name, len(events)))
    check(all(e.get("v") == 1 and isinstance(e.get("t"), float) and
              e.get("pid") == int(os_pid) for e in events),
          "%s: every line has v 1, t and the program's pid %s" %
          (name, os_pid))
    lang = "node" if program.endswith(".js") else "python"
    check(events and events[0].get("ev") == "hello" and
          events[0].get("lang") == lang and
          sum(e.get("ev") == "hello" for e in events) == 1,
          "%s: one hello, first" % name)
    leaks = [w for w in (secret, "host=", "dbname=", "postgresql://",
                         "application_name=") if w.encode() in raw]
    check(not leaks, "%s: no password or conninfo in the lines %s" %
          (name, leaks))
    pids = json.load(open(pids_path))
    every = {p for ps in pids.values() for p in ps}
    backends = {e["backend"] for e in events if "backend" in e}
    check(backends and backends <= every,
          "%s: every backend pid is one of the program's sessions %s" %
          (name, sorted(backends - every)))
    cwd = os.getcwd()
    shown = os.path.relpath(os.path.abspath(program), cwd)
    src = open(program).read().splitlines()
    for number, text in enumerate(src, 1):
        m = re.search(r"(?:#|//) @hook (\S+) (\S+) (\S+) (\S+)(?: (\d+))?", text)
        if m:
            check_marker(events, shown, number, m.groups(), pids, name)
    for line in results:
        print(line)


def check_marker(events, shown, number, marker, pids, name):
    kind, lib, app, want_next, count = marker
    count = int(count or 1)
    where = "%s:%d" % (shown, number)
    found = [(i, e) for i, e in enumerate(events)
             if e.get("ev") == kind and e.get("stack") and
             e["stack"][0].get("file") == shown and
             e["stack"][0].get("line") == number]
    if kind == "open":
        found = [(i, e) for i, e in found if e.get("lib") == lib]
    else:
        found = [(i, e) for i, e in found
                 if str(e.get("pool", "")).startswith(lib + "#")]
    check(len(found) == count, "%s: %d %s (%s) at %s, found %d" %
          (name, count, kind, lib, where, len(found)))
    for i, e in found:
        if app != "-":
            check(e.get("backend") in pids.get(app, []),
                  "%s: %s at %s: backend %s is %s's session %s" %
                  (name, kind, where, e.get("backend"), app,
                   pids.get(app)))
        if want_next == "*":
            continue
        later = [x for x in events[i + 1:] if x.get("conn") == e["conn"]]
        got = later[0] if later else {}
        what = got.get("ev", "nothing")
        if what == "close":
            what = "close:" + str(got.get("how"))
        check(what == want_next and got.get("backend") == e.get("backend"),
              "%s: after the %s at %s, %s (got %s)" %
              (name, kind, where, want_next, what))


main()

"""A scripted client of pgdrip's client-hook protocol (pgdrip(1), CLIENT
HOOKS), for test_hooks.sh until the real hooks run in the suites: it
opens real psycopg2 connections, marks its tests on $PGDRIP_TESTS as a
runner does, and writes the lines the hooks would write to $PGDRIP_HOOKS
(its backend pids the driver's own).

  hooks_client.py SCENARIO [DSN]

SCENARIO: leaky (a pool suite where two tests never return a checkout,
one of them collected by the garbage collector, and one test opens a
connection it never closes), healthy (the same suite, every checkout
given back), garbage (hostile lines between good ones), proxy (one test
leaks a plain connection opened through DSN, a TCP proxy).  Prints
"backend NAME PID" for each connection the test script checks.
"""
import json
import os
import socket
import sys
import time

import psycopg2

HOOKS = None


def send(ev, **kw):
    if HOOKS is None:
        return  # PGDRIP_CLIENT_HOOKS=0: the hooks fall silent
    line = dict(v=1, ev=ev, pid=os.getpid(), t=time.time(), **kw)
    HOOKS.sendall((json.dumps(line) + "\n").encode())


def mark(verb, name):
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.environ["PGDRIP_TESTS"])
    s.sendall(("%s@%d %s\n" % (verb, os.getpid(), name)).encode())
    answer = s.makefile().readline()
    s.close()
    if not answer.startswith("ok"):
        sys.exit("pgdrip answered %r" % answer)


def frame(file, line, func):
    return {"file": file, "line": line, "func": func}


class Pool:
    """A pool of n connections opened at once, as psycopg_pool does."""

    def __init__(self, dsn, n, name="psycopg_pool.ConnectionPool#1"):
        self.name = name
        self.free = []
        for i in range(n):
            conn = psycopg2.connect(dsn, application_name="hooks_suite")
            cid = "c%d" % id(conn)
            send("open", lib="psycopg", conn=cid,
                 backend=conn.get_backend_pid(),
                 stack=[frame("tests/conftest.py", 7, "pool")])
            self.free.append((cid, conn))

    def take(self, test, stack):
        cid, conn = self.free.pop(0)
        send("take", conn=cid, backend=conn.get_backend_pid(),
             pool=self.name, test=test, stack=stack)
        return cid, conn

    def give(self, item):
        cid, conn = item
        send("give", conn=cid, backend=conn.get_backend_pid(),
             pool=self.name)
        self.free.append(item)


def run_test(name, body):
    mark("start", name)
    body(name)
    mark("end", name)


def suite(dsn, leaky):
    pool = Pool(dsn, 4)
    kept = []

    def reserve(test):
        item = pool.take(test, [frame("tests/test_stock.py", 11, "reserve"),
                                frame("tests/test_stock.py", 30, test)])
        cur = item[1].cursor()
        cur.execute("SELECT 1")
        if leaky:
            cur.execute("BEGIN")
            kept.append(item)
        else:
            item[1].rollback()
            pool.give(item)

    def collected(test):
        cid, conn = pool.take(test, [frame("tests/test_stock.py", 17,
                                           "restock")])
        conn.cursor().execute("SELECT 2")
        if leaky:
            send("lost", conn=cid, backend=conn.get_backend_pid(),
                 pool=pool.name, how="gc")
            send("close", conn=cid, backend=conn.get_backend_pid(),
                 how="gc")
            conn.close()
        else:
            pool.give((cid, conn))

    def fine(test):
        item = pool.take(test, [frame("tests/test_stock.py", 23, "count")])
        item[1].cursor().execute("SELECT 3")
        pool.give(item)

    def plain(test):
        conn = psycopg2.connect(dsn, application_name="hooks_suite")
        cid = "p%d" % id(conn)
        send("open", lib="psycopg2", conn=cid,
             backend=conn.get_backend_pid(), test=test,
             stack=[frame("tests/test_report.py", 5, "report")])
        conn.cursor().execute("SELECT 4")
        if leaky:
            kept.append((cid, conn))
        else:
            send("close", conn=cid, backend=conn.get_backend_pid(),
                 how="close")
            conn.close()

    run_test("tests/test_stock.py::test_count", fine)
    run_test("tests/test_stock.py::test_reserve_pear_short", reserve)
    run_test("tests/test_stock.py::test_restock", collected)
    run_test("tests/test_report.py::test_report", plain)
    run_test("tests/test_stock.py::test_count_again", fine)
    for cid, conn in kept:
        print("backend %s %d" % (cid[0], conn.get_backend_pid()), flush=True)
    # The leaked ones stay open until the process exits, as a leak does.
    time.sleep(float(os.environ.get("HOOKS_HOLD_S", "2")))
    for cid, conn in kept:
        send("close", conn=cid, backend=conn.get_backend_pid(), how="exit")


def garbage(dsn):
    raw = HOOKS
    raw.sendall(b"not json\n{\"v\":2}\n\x1b[31m\xff\xfe\n")
    raw.sendall(b"{" + b"x" * 40000 + b"}\n")
    raw.sendall(b'{"v":1,"ev":"take","pid":1,"t":1e300}\n')
    send("hello", lang="python", argv=["garbage"], libs=[])
    send("unhooked", lib="asyncpg", why="\x1b[2Jno Pool.acquire")
    suite(dsn, False)


def proxy(dsn):
    def opened(test):
        conn = psycopg2.connect(dsn, application_name="hooks_proxy")
        cid = "x%d" % id(conn)
        send("open", lib="psycopg2", conn=cid,
             backend=conn.get_backend_pid(), test=test,
             stack=[frame("app.py", 3, "main")])
        conn.cursor().execute("SELECT 5")
        print("backend x %d" % conn.get_backend_pid(), flush=True)
        proxy.kept = conn

    run_test("app.py::test_through_proxy", opened)
    time.sleep(float(os.environ.get("HOOKS_HOLD_S", "2")))


def main():
    global HOOKS
    scenario = sys.argv[1]
    dsn = sys.argv[2] if len(sys.argv) > 2 else ""
    if os.environ.get("PGDRIP_HOOKS"):
        HOOKS = socket.socket(socket.AF_UNIX)
        HOOKS.connect(os.environ["PGDRIP_HOOKS"])
    if scenario != "garbage":
        send("hello", lang="python", argv=sys.argv[:8], libs=["psycopg2"])
    if scenario == "leaky":
        suite(dsn, True)
    elif scenario == "healthy":
        suite(dsn, False)
    elif scenario == "garbage":
        garbage(dsn)
    elif scenario == "proxy":
        proxy(dsn)
    else:
        sys.exit("unknown scenario " + scenario)


main()

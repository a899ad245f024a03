"""Shared by the hook test programs: the secret they pass to every
connect (the cluster trusts, so it is ignored; the hooks must never send
it), and the checkpoint where the test reads pg_stat_activity while the
program's connections are open.

  checkpoint(): with HOOKS_SYNC=DIR, writes DIR/ready and waits for
  DIR/go; without it, does nothing (the runs compared byte for byte).
"""
import os
import sys
import time

SECRET = "hunter2-secret"


def checkpoint():
    sync = os.environ.get("HOOKS_SYNC")
    if not sync:
        return
    with open(os.path.join(sync, "ready"), "w") as f:
        f.write("%d\n" % os.getpid())
    while not os.path.exists(os.path.join(sync, "go")):
        time.sleep(0.02)


def say(*args):
    print(*args)
    sys.stdout.flush()

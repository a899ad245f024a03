"""A library the hooks cannot patch (fakelib's psycopg_pool, first on
PYTHONPATH) beside one they can: psycopg still reports its connection."""
import psycopg
import psycopg_pool  # noqa: F401
from hookprog import say

conn = psycopg.connect(application_name="hk-unhooked")
say("answer", conn.execute("SELECT 2").fetchone()[0])
conn.close()

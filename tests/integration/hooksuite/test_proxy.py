"""Run with HOOKSUITE_DSN naming a TCP proxy in front of the server: one
test opens a connection through it and never closes it."""
import os

import psycopg2

KEPT = []


def test_through_proxy():
    conn = psycopg2.connect(os.environ["HOOKSUITE_DSN"])
    conn.cursor().execute("SELECT 'through the proxy'")
    KEPT.append(conn)

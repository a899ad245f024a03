"""A plain script: one connection opened and never closed."""
import psycopg2


def main():
    conn = psycopg2.connect("application_name=hooksapp")
    conn.cursor().execute("SELECT 1")
    return conn


KEEP = main()

"""Stands for a psycopg_pool whose API the hooks do not know (no
ConnectionPool): they must name it as unhooked, once, and go on."""
__version__ = "0.0-fake"

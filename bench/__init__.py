"""The benchmark of issue 4: our server against a hand-written floor, on PostgreSQL and SQLite.

Run it with ``python -m bench``; ``bench/README.md`` explains the options and the columns.
"""

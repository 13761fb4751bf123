"""Issue 5's soak test: concurrent clients on a mix of the contract's operations, then checks.

Run it as ``python -m bench.soak`` (``__main__``). The clients (``client``,
built from ``session``, ``reads`` and ``writes``) send the ``documents``,
share the ``world`` and record into ``stats``; afterwards ``integrity`` reads
the database, ``serverlog`` the server's log, and ``summary`` prints it all.
"""

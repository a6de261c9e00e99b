"""One row per transaction over one connection; prints "ack N" once its COMMIT returned.

argv[1]: mount point. Environment: JOURNAL (delete, truncate, persist, wal), SYNC (off, normal,
full, extra), ROWS, PACE (seconds between transactions, as a server between requests).
"""
import os
import sqlite3
import sys
import time

db = sqlite3.connect(os.path.join(sys.argv[1], "test.db"), isolation_level=None)
db.execute("PRAGMA journal_mode=" + os.environ.get("JOURNAL", "delete"))
db.execute("PRAGMA synchronous=" + os.environ.get("SYNC", "full"))
for i in range(1, int(os.environ.get("ROWS", "20")) + 1):
    db.execute("BEGIN")
    db.execute("INSERT INTO t VALUES(?, ?)", (i, "x" * 200))
    db.execute("COMMIT")
    print("ack", i, flush=True)
    time.sleep(float(os.environ.get("PACE", "0.02")))
db.close()

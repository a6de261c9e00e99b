"""Creates the database before recording: table t in the journal mode of $JOURNAL. argv[1]: mount point."""
import os
import sqlite3
import sys

db = sqlite3.connect(os.path.join(sys.argv[1], "test.db"), isolation_level=None)
db.execute("PRAGMA journal_mode=" + os.environ.get("JOURNAL", "delete"))
db.execute("CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v TEXT)")
db.close()

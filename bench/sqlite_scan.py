#!/usr/bin/env python3
"""What one Data Table read and one size walk cost in SQLite, wide rows against narrow ones.

n8n 2.40.7 keeps each Data Table as a SQLite table with no index but its id, so every Data table
node read by another column (a Get by returnId: a SELECT and a COUNT) scans the whole table, and
every write first measures all Data Tables (`SELECT SUM(pgsize) FROM dbstat`, its cache reset by
each write). This builds, in a throw-away file, an inbox of N rows as the intake leaves them (the
normalised return as a ~1.8 kB payload) and the return events table of the same N events
(eventId, returnId, sequence, receivedAt), then times both, in the same run:

    python3 bench/sqlite_scan.py [rows]        # default 30000 (a month at 1,000 returns a day)

It prints milliseconds and the ratio narrow/wide. SQLite only (Python's own sqlite3, no n8n): it
isolates the database's share; the bench (npm run bench -- --inbox-history N) measures the flow.
"""
import os
import sqlite3
import sys
import tempfile
import time

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
if not 1 <= ROWS <= 500_000:
    sys.exit("rows must be 1 to 500000")
REPEAT = 20
PAYLOAD = "x" * 1_800


def timed(db, sql, args=()):
    started = time.perf_counter()
    for _ in range(REPEAT):
        db.execute(sql, args).fetchall()
    return (time.perf_counter() - started) / REPEAT * 1000


def main():
    folder = tempfile.mkdtemp(prefix="rk-sqlite-scan-")
    path = os.path.join(folder, "t.db")
    try:
        db = sqlite3.connect(path)
        db.execute(
            "create table inbox(id integer primary key, eventId text, returnId text, sequence real,"
            " status text, claim text, payload text, receivedAt text, lastError text, processedAt text)"
        )
        db.execute(
            "create table events(id integer primary key, eventId text, returnId text, sequence real,"
            " receivedAt text)"
        )
        rows = [
            (i + 1, f"evt_{i}", str(2_000_000 + i), 1, "done", "", PAYLOAD, "2026-12-01T00:00:00.000Z", "", "")
            for i in range(ROWS)
        ]
        db.executemany("insert into inbox values (?,?,?,?,?,?,?,?,?,?)", rows)
        db.executemany("insert into events values (?,?,?,?,?)", [(r[0], r[1], r[2], r[3], r[7]) for r in rows])
        db.commit()
        missing = ("9999999",)  # a new return: the usual case, nothing found, the whole table read
        wide = timed(db, "select * from inbox where returnId = ?", missing) + timed(
            db, "select count(*) from inbox where returnId = ?", missing
        )
        narrow = timed(db, "select * from events where returnId = ?", missing) + timed(
            db, "select count(*) from events where returnId = ?", missing
        )
        walk_wide = timed(db, "select sum(pgsize) from dbstat where name = 'inbox'")
        walk_narrow = timed(db, "select sum(pgsize) from dbstat where name = 'events'")
        db.close()
        size = os.path.getsize(path)
        print(f"SQLite {sqlite3.sqlite_version}, {ROWS} rows each, file {size / 1e6:.1f} MB, mean of {REPEAT}")
        print(f"read by returnId (select + count): inbox {wide:.1f} ms, return events {narrow:.2f} ms, ratio {narrow / wide:.3f}")
        print(f"size walk (dbstat) of the table:   inbox {walk_wide:.1f} ms, return events {walk_narrow:.2f} ms, ratio {walk_narrow / walk_wide:.3f}")
    finally:
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))
        os.rmdir(folder)


if __name__ == "__main__":
    main()

"""A sinks.python example: every prediction into a SQLite table, once per key.

    on_prediction:
      - using: sinks.python
        params:
          class: sqlite_sink.py:SqliteSink      # relative to the pipeline file
          params: {path: predictions.db, table: predictions}

The engine delivers each prediction at least once (a retried batch, a restart
after kill -9 replays what was not yet settled); the table's primary key
(dag_name, symbol, ts) with INSERT OR IGNORE makes that exactly once in the
table. Rows are committed in flush(), which the engine calls when its queue
runs empty: only then does it count them as delivered. last_ts tells the engine
the newest committed row per symbol, so a live restart without a snapshot
predicts the time it was down instead of leaving a hole.
"""

import datetime
import sqlite3


class SqliteSink:
    def __init__(self, path, table="predictions", timeout_s=30.0):
        if not table.isidentifier():
            raise ValueError("table %r is not a plain SQL name" % table)
        self._table = table
        self._db = sqlite3.connect(path, timeout=timeout_s)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS %s ("
            " dag_name TEXT NOT NULL, symbol TEXT NOT NULL, ts TEXT NOT NULL,"
            " prediction REAL NOT NULL, frame TEXT, column_name TEXT,"
            " emitted_at TEXT, origin TEXT,"
            " PRIMARY KEY (dag_name, symbol, ts))" % table
        )
        self._insert = (
            "INSERT OR IGNORE INTO %s (dag_name, symbol, ts, prediction, frame, column_name, emitted_at, origin)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)" % table
        )
        self._db.commit()

    @staticmethod
    def _row(symbol, ts, prediction, metadata):
        return (
            metadata["dag_name"],
            symbol,
            ts.isoformat(),
            prediction,
            metadata["frame"],
            metadata["column"],
            metadata["emitted_at"].isoformat(),
            metadata["origin"],
        )

    def emit(self, symbol, ts, prediction, metadata):
        self._db.execute(self._insert, self._row(symbol, ts, prediction, metadata))

    def emit_batch(self, records):
        self._db.executemany(self._insert, [self._row(*r) for r in records])

    def last_ts(self, dag_name, symbol):
        row = self._db.execute(
            "SELECT max(ts) FROM %s WHERE dag_name = ? AND symbol = ?" % self._table, (dag_name, symbol)
        ).fetchone()
        return datetime.datetime.fromisoformat(row[0]) if row[0] is not None else None

    def flush(self):
        self._db.commit()

    def close(self):
        self._db.commit()
        self._db.close()

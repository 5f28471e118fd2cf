"""Trackio: `trackio.init` + `trackio.log(row, step=...)` + `trackio.finish()` into its SQLite project
database (TRACKIO_DIR=WORKDIR, set before import), `SQLiteStorage.get_metric_values` (what `trackio get
metric` reads) for the history, and its read-only SQL `SQLiteStorage.query_project` for the 10 best."""

import os
import sys

from _workload import PROJECT, args, emit, expected_last_loss, now, rows

# The final loss of each run: SQLite's max() picks the row of the last step for the bare column.
TOP = (
    "SELECT CAST(json_extract(c.config, '$.i') AS INTEGER) AS i, f.loss FROM "
    "(SELECT run_id, max(step) AS last_step, json_extract(metrics, '$.loss') AS loss FROM metrics GROUP BY run_id) f "
    "JOIN configs c ON c.run_id = f.run_id ORDER BY f.loss, i LIMIT 10"
)


def main() -> None:
    mode, wd, n = args()
    os.environ["TRACKIO_DIR"] = wd
    if mode == "setup":
        return emit()
    t0 = now()
    stdout = sys.stdout
    sys.stdout = sys.stderr  # trackio prints its banners; the JSON line is the only stdout
    import trackio
    from trackio.sqlite_storage import SQLiteStorage

    t_import = now()
    try:
        if mode == "write":
            (steps,) = n
            trackio.init(project=PROJECT, name="run0", config={"i": 0})
            t_init = now()
            for step, r in rows(0, steps):
                trackio.log(r, step=step)
            t_log = now()
            trackio.finish()
            t_end = now()
            out = dict(import_ms=t_import - t0, init_ms=t_init - t_import, log_ms=t_log - t_init, finish_ms=t_end - t_log, total_ms=t_end - t0)
        elif mode == "read":
            (steps,) = n
            t1 = now()
            values = SQLiteStorage.get_metric_values(PROJECT, "run0", "loss")
            t2 = now()
            out = dict(read_ms=t2 - t1, rows=len(values), last=values[-1]["value"] if values else None, expected_last=expected_last_loss(steps))
        elif mode == "sweep":
            runs, steps = n
            for i in range(runs):
                trackio.init(project=PROJECT, name=f"run{i}", config={"i": i})
                for step, r in rows(i, steps):
                    trackio.log(r, step=step)
                trackio.finish()
            t_sweep = now()
            found = SQLiteStorage.query_project(PROJECT, TOP)["rows"]
            t_query = now()
            out = dict(sweep_ms=t_sweep - t_import, query_ms=t_query - t_sweep, top=[r["i"] for r in found])
        else:
            raise SystemExit(f"unknown mode {mode}")
    finally:
        sys.stdout = stdout
    emit(**out)


if __name__ == "__main__":
    main()

"""Specimen Vault from Python (the peer benchmark's "ours"): `sv.init` + `run.log` + finish through the
package's `specimen session`, `sv.read_metrics` for the history, and for the sweep `specimen index` then
`specimen query` over the catalog, the product's own query path. See _workload.py for the modes; the
vault and its specimen are made beforehand with `specimen init` / `specimen new`."""

import json
import os
import subprocess

from _workload import METRICS, SPECIMEN, args, emit, expected_last_loss, now, rows

QUERY = (
    "SELECT CAST(json_extract(r.config, '$.i') AS INTEGER) AS i, s.last AS final_loss "
    "FROM metric_summaries s JOIN runs r USING (specimen_id, run_id) "
    f"WHERE s.metric = 'loss' AND s.specimen_id = '{SPECIMEN}' ORDER BY s.last, i LIMIT 10"
)


def cli(*argv: str) -> str:
    cmd = os.environ["SPECIMEN_CLI"].split()
    return subprocess.run([*cmd, *argv], check=True, capture_output=True, text=True).stdout


def main() -> None:
    mode, wd, n = args()
    if mode == "setup":
        return emit()
    t0 = now()
    import specimen_vault as sv

    t_import = now()
    if mode == "write":
        (steps,) = n
        run = sv.init(SPECIMEN, config={"i": 0}, vault=wd)
        t_init = now()
        for step, r in rows(0, steps):
            run.log(r, step=step)
        t_log = now()
        run.finish()
        t_end = now()
        assert run.status == "succeeded" and run.mode == "cli", run
        with open(os.path.join(wd, "run.json"), "w") as f:
            json.dump({"run": run.run_id}, f)
        return emit(import_ms=t_import - t0, init_ms=t_init - t_import, log_ms=t_log - t_init, finish_ms=t_end - t_log, total_ms=t_end - t0)
    if mode == "read":
        (steps,) = n
        import pyarrow.parquet  # noqa: F401  (imports are not part of any peer's read time)

        with open(os.path.join(wd, "run.json")) as f:
            run_id = json.load(f)["run"]
        t1 = now()
        table = sv.read_metrics(SPECIMEN, run_id=run_id, metrics=["loss"], vault=wd)
        loss = table.column("loss")
        t2 = now()
        return emit(read_ms=t2 - t1, rows=len(loss), last=loss[-1].as_py(), expected_last=expected_last_loss(steps))
    if mode == "sweep":
        runs, steps = n
        for i in range(runs):
            with sv.init(SPECIMEN, config={"i": i}, vault=wd) as run:
                for step, r in rows(i, steps):
                    run.log(r, step=step)
        t_sweep = now()
        cli("--vault", wd, "index")
        t_index = now()
        top = json.loads(cli("--vault", wd, "query", QUERY, "--format", "json"))
        t_query = now()
        return emit(
            sweep_ms=t_sweep - t_import,
            index_ms=t_index - t_sweep,
            query_ms=t_query - t_sweep,
            top=[r["i"] for r in top],
            metrics=len(METRICS),
        )
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()

"""Weights & Biases offline: `wandb.init(mode="offline")` + `run.log(row, step=...)` + `run.finish()`, the
run written to WORKDIR/wandb. An offline run cannot be read back or queried without `wandb sync` to a W&B
server (there is no local reader API), so `read` reports that and the sweep has no query."""

from _workload import PROJECT, args, emit, now, rows

UNREADABLE = "W&B offline runs cannot be read or queried without `wandb sync` to a W&B server"


def main() -> None:
    mode, wd, n = args()
    if mode == "setup":
        return emit()
    if mode == "read":
        return emit(skipped=UNREADABLE)
    t0 = now()
    import wandb

    t_import = now()
    if mode == "write":
        (steps,) = n
        run = wandb.init(mode="offline", dir=wd, project=PROJECT, name="run0", config={"i": 0})
        t_init = now()
        for step, r in rows(0, steps):
            run.log(r, step=step)
        t_log = now()
        run.finish()
        t_end = now()
        return emit(import_ms=t_import - t0, init_ms=t_init - t_import, log_ms=t_log - t_init, finish_ms=t_end - t_log, total_ms=t_end - t0)
    if mode == "sweep":
        runs, steps = n
        for i in range(runs):
            run = wandb.init(mode="offline", dir=wd, project=PROJECT, name=f"run{i}", config={"i": i})
            for step, r in rows(i, steps):
                run.log(r, step=step)
            run.finish()
        t_sweep = now()
        return emit(sweep_ms=t_sweep - t_import, query_ms=None, top=None, skipped_query=UNREADABLE)
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()

"""TensorBoard: tensorboardX `SummaryWriter.add_scalar` (one event per value) to write, TensorBoard's
`EventAccumulator` to read (here without TensorFlow, as `pip install tensorboard` gives it). TensorBoard has
no query across runs: the 10 best are found by loading every run's events and sorting in Python."""

import os

from _workload import args, emit, expected_last_loss, now, rows


def write_run(SummaryWriter, logdir: str, i: int, steps: int) -> None:
    w = SummaryWriter(logdir=logdir)
    for step, r in rows(i, steps):
        for k, v in r.items():
            w.add_scalar(k, v, step)
    w.close()


def main() -> None:
    mode, wd, n = args()
    if mode == "setup":
        return emit()
    t0 = now()
    if mode == "write":
        (steps,) = n
        from tensorboardX import SummaryWriter

        t_import = now()
        write_run(SummaryWriter, os.path.join(wd, "run0"), 0, steps)
        t_end = now()
        return emit(import_ms=t_import - t0, log_ms=t_end - t_import, total_ms=t_end - t0)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    t_import = now()
    if mode == "read":
        (steps,) = n
        t1 = now()
        acc = EventAccumulator(os.path.join(wd, "run0"), size_guidance={"scalars": 0})
        acc.Reload()
        events = acc.Scalars("loss")
        t2 = now()
        return emit(read_ms=t2 - t1, rows=len(events), last=events[-1].value if events else None, expected_last=expected_last_loss(steps))
    if mode == "sweep":
        runs, steps = n
        from tensorboardX import SummaryWriter

        for i in range(runs):
            write_run(SummaryWriter, os.path.join(wd, f"run{i}"), i, steps)
        t_sweep = now()
        final = []
        for i in range(runs):
            acc = EventAccumulator(os.path.join(wd, f"run{i}"), size_guidance={"scalars": 0})
            acc.Reload()
            final.append((acc.Scalars("loss")[-1].value, i))
        top = [i for _, i in sorted(final)[:10]]
        t_query = now()
        return emit(sweep_ms=t_sweep - t_import, query_ms=t_query - t_sweep, top=top)
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()

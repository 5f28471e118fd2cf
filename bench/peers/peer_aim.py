"""Aim: `Run(repo=WORKDIR)` + `run.track(row, step=...)` (a dict tracks every metric of the row) +
`run.close()`; `Repo.query_metrics` for the history and the sweep's final losses (Aim's query language
filters but does not order, so the 10 best are sorted in Python). Aim 3.29 queries only runs in its repo
index, which `aim up` updates in the background (and `values.last()` / `values.sparse_numpy()` are
ordered by step hashes, not steps: `data.numpy()` is used): the reader first indexes the new runs with Aim's own
index manager (timed, and reported as index_ms), else the query finds no runs at all."""

import os

from _workload import PROJECT, args, emit, expected_last_loss, now, rows


def index_new_runs(repo) -> int:
    from aim.sdk.index_manager import RepoIndexManager

    mng = RepoIndexManager.get_index_manager(repo)
    chunks = os.path.join(repo.path, "meta", "chunks")
    hashes = os.listdir(chunks) if os.path.isdir(chunks) else []
    for h in hashes:
        mng.index(h)
    return len(hashes)


def main() -> None:
    mode, wd, n = args()
    t0 = now()
    from aim import Repo, Run

    t_import = now()
    if mode == "setup":
        Repo.from_path(wd, init=True)
        return emit()
    if mode == "write":
        (steps,) = n
        run = Run(repo=wd, experiment=PROJECT)
        run["i"] = 0
        t_init = now()
        for step, r in rows(0, steps):
            run.track(r, step=step)
        t_log = now()
        run.close()
        t_end = now()
        return emit(import_ms=t_import - t0, init_ms=t_init - t_import, log_ms=t_log - t_init, finish_ms=t_end - t_log, total_ms=t_end - t0)
    if mode == "read":
        t1 = now()
        repo = Repo(wd)
        indexed = index_new_runs(repo)
        t_index = now()
        repo = Repo(wd)
        steps, values = [], []
        for m in repo.query_metrics("metric.name == 'loss'").iter():
            # data.numpy() gives steps in order; values.sparse_numpy() is keyed by step hashes instead.
            steps, (values, *_) = m.data.numpy()
        t2 = now()
        return emit(
            read_ms=t2 - t1, index_ms=t_index - t1, indexed_runs=indexed, rows=len(values),
            last=float(values[-1]) if len(values) else None, last_step=int(steps[-1]) if len(steps) else None,
            expected_last=expected_last_loss(n[0]),
        )
    if mode == "sweep":
        runs, steps = n
        for i in range(runs):
            run = Run(repo=wd, experiment=PROJECT)
            run["i"] = i
            for step, r in rows(i, steps):
                run.track(r, step=step)
            run.close()
        t_sweep = now()
        repo = Repo(wd)
        index_new_runs(repo)
        t_index = now()
        repo = Repo(wd)
        final = []
        for m in repo.query_metrics("metric.name == 'loss'").iter():
            _, (values, *_) = m.data.numpy()
            final.append((float(values[-1]), int(m.run["i"])))
        top = [i for _, i in sorted(final)[:10]]
        t_query = now()
        return emit(sweep_ms=t_sweep - t_import, index_ms=t_index - t_sweep, query_ms=t_query - t_sweep, top=top, found_runs=len(final))
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()

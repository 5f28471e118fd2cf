/** The SQL console's example queries, one per table or view a user is likely to start from. */

/** `[label, query]` pairs for the examples menu; the first is the console's default query. */
export const EXAMPLES: readonly [string, string][] = [
  [
    'Specimens',
    'SELECT specimen_id, domain, method, model, tags, run_count, latest_status\nFROM catalog\nORDER BY created DESC',
  ],
  [
    'Runs',
    'SELECT specimen_id, run_id, status, duration_s, git_commit, config\nFROM runs\nORDER BY started DESC',
  ],
  [
    'Best loss per run',
    "SELECT specimen_id, run_id, min AS best_loss, step_of_min\nFROM metric_summaries\nWHERE metric = 'loss'\nORDER BY best_loss",
  ],
  [
    'Loss across runs',
    "SELECT step, value AS loss, specimen_id || '/' || run_id AS run\nFROM metrics\nWHERE metric = 'loss'\nORDER BY run, step",
  ],
  ['Tensors', "SELECT specimen_id, run_id, name, shape, dtype, bytes\nFROM artifacts\nWHERE kind = 'tensor'"],
];

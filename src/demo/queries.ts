/**
 * The seed queries: questions researchers ask of a vault, as SQL over the catalog. The README shows them,
 * `specimen demo` prints their results, and the integration tests run each through the CLI.
 */

export interface SeedQuery {
  title: string;
  sql: string;
}

export const SEED_QUERIES: readonly SeedQuery[] = [
  {
    title: 'Specimens by domain',
    sql: "SELECT specimen_id, method, model, run_count FROM catalog WHERE domain = 'interpretability' ORDER BY specimen_id",
  },
  {
    title: 'Specimens by tag',
    sql: "SELECT specimen_id, model, tags FROM catalog WHERE array_contains(tags, 'gpt2') ORDER BY specimen_id",
  },
  {
    title: 'Recent experiments',
    sql: 'SELECT specimen_id, created, latest_run, latest_status FROM catalog ORDER BY created DESC LIMIT 5',
  },
  {
    title: "One specimen's metrics (the Python implementation's documented query)",
    sql: 'SELECT run_id, step, loss, accuracy FROM exp_example_2024_12_19_synthetic_demo WHERE step >= 50 ORDER BY run_id, step LIMIT 5',
  },
  {
    title: 'Aggregates across specimens',
    sql:
      'SELECT c.domain, count(DISTINCT c.specimen_id) AS specimens, count(*) AS runs, round(avg(r.duration_s), 2) AS mean_duration_s ' +
      'FROM catalog c JOIN runs r USING (specimen_id) GROUP BY c.domain ORDER BY c.domain',
  },
  {
    title: 'Comparing seeds: which grokking runs reached 95% test accuracy, and when',
    sql:
      "SELECT run_id, CAST(json_extract(config, '$.prime') AS INTEGER) AS prime, " +
      'min(step) AS first_step_above_95 ' +
      'FROM exp_2025_01_15_grokking_modular_addition e JOIN runs r USING (run_id) ' +
      "WHERE r.specimen_id = '2025_01_15_grokking_modular_addition' AND test_acc >= 0.95 " +
      'GROUP BY ALL ORDER BY first_step_above_95',
  },
  {
    title: 'Where each grokking run turned: the step test accuracy jumped, against when it passed 95%',
    sql:
      "SELECT t.run_id, CAST(json_extract(r.config, '$.prime') AS INTEGER) AS prime, t.step AS turn_step, round(t.score, 1) AS score, " +
      "CAST(json_extract(r.summary, '$.test_solved_at') AS INTEGER) AS test_solved_at " +
      'FROM turns t JOIN runs r USING (specimen_id, run_id) ' +
      "WHERE t.specimen_id = '2025_01_15_grokking_modular_addition' AND t.metric = 'test_acc' ORDER BY t.run_id",
  },
  {
    title: 'One metric across every run of every specimen',
    sql: "SELECT specimen_id, run_id, min(value) AS best_loss FROM metrics WHERE metric = 'loss' GROUP BY ALL ORDER BY best_loss LIMIT 5",
  },
  {
    title: 'Comparing specimens: final reconstruction error of every SAE run',
    sql:
      "SELECT specimen_id, run_id, CAST(json_extract(config, '$.width') AS INTEGER) AS width, last AS final_mse, min AS best_mse, step_of_min " +
      "FROM metric_summaries JOIN runs USING (specimen_id, run_id) WHERE metric = 'mse' ORDER BY width",
  },
];

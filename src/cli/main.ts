#!/usr/bin/env node
/**
 * `specimen`: the command-line interface. This file only declares commands; each command's code (and with
 * it DuckDB, Arrow and Zarr) is imported when that command runs, so `specimen --help` starts fast.
 *
 * @example
 * specimen demo ./demo-vault
 * specimen --vault ./demo-vault show example_2024_12_19_synthetic_demo
 */
import { Command, CommanderError, Help, Option } from 'commander';
import { listOr, PROTOCOL_FILES, PROTOCOL_KINDS, PROTOCOL_LANGUAGES } from '../format/protocols.js';
import { argumentErrorExitCode, EXIT, reportError } from './exit.js';
import { handleClosedOutput } from './output.js';

handleClosedOutput();

const program = new Command();
program
  .name('specimen')
  .description('Specimen Vault: a local-first archive for machine-learning experiments')
  .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
  .addOption(
    new Option(
      '--vault <dir>',
      'vault root (default: nearest vault above the working directory, or $SPECIMEN_VAULT)',
    ),
  )
  .showHelpAfterError('(run with --help for usage)')
  // Set before the subcommands are declared, which inherit both: argument errors (a missing required option,
  // an unknown one) come back to parseAsync below instead of exiting with commander's code 1, and the help
  // of every command says which options it cannot do without.
  .exitOverride()
  .configureHelp({
    optionDescription(option) {
      const text = Help.prototype.optionDescription.call(this, option);
      return option.mandatory ? `${text} (required)` : text;
    },
  })
  .addHelpText(
    'after',
    `
Exit codes: 0 success, 1 check failed, 2 bad input, 3 not found, 4 conflict, 5 out of space, 70 internal error.
Colour is used only on a terminal and never when NO_COLOR is set.`,
  );

/** The protocol languages for help texts: kind, files, how it starts and how it uses the library. */
function protocolLanguagesHelp(): string {
  const rows = PROTOCOL_LANGUAGES.map((l) => {
    const start =
      l.command.runtime === 'python'
        ? 'Python'
        : `Node.js${l.command.preload.map((m) => ` + ${m}`).join('')}`;
    return `  ${l.kind}  ${l.files.join(', ')} (${start}): ${l.helper}`;
  });
  return `\nProtocol languages:\n${rows.join('\n')}`;
}

/** The file names of the languages run by Python, for the --python option. */
const pythonFiles = listOr(
  PROTOCOL_LANGUAGES.filter((l) => l.command.runtime === 'python').flatMap((l) => l.files),
);

/** Adds the global --vault option to a subcommand so it is accepted after the command name too. */
function command(name: string, description: string): Command {
  return program.command(name).description(description).addOption(new Option('--vault <dir>', 'vault root'));
}

/** The signature of every command module: positional arguments, then options (global --vault merged in). */
type CommandModule = { default: (...args: never[]) => Promise<number | undefined> };

/**
 * Action that imports the command module only when the command runs, passes positionals and merged options
 * (so `--vault` works before or after the command name), and maps errors to exit codes.
 */
function run(load: () => Promise<CommandModule>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args.at(-1) as Command;
    const positionals = args.slice(0, -2);
    try {
      const mod = await load();
      const code = await (mod.default as (...a: unknown[]) => Promise<number | undefined>)(
        ...positionals,
        cmd.optsWithGlobals(),
      );
      process.exitCode = code ?? EXIT.ok;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

command('init', 'create a vault (specimens/ and specimen-vault.json)')
  .argument('[dir]', 'directory of the new vault', '.')
  .action(run(() => import('./commands/init.js')));

command('new', 'scaffold a specimen: manifest, protocol template and field notes')
  .argument('<id>', 'specimen ID, YYYY_MM_DD_descriptor')
  .requiredOption(
    '--domain <domain>',
    'taxonomy domain (interpretability, training, benchmarking, alignment, …)',
  )
  .requiredOption('--method <method>', 'taxonomy method allowed for the domain')
  .option('--tags <a,b>', 'comma-separated tags')
  .option('--model <name>', 'model under study')
  .option('--description <text>', 'one-paragraph description')
  .option(`--protocol <${PROTOCOL_KINDS.join('|')}>`, 'write a protocol template in this language')
  .option('--status <status>', 'active (default) or planned: an experiment recorded before it runs')
  .option('--hypothesis <text>', 'what the experiment is expected to show')
  .option('--expected <text>', 'the results expected (stored as expected_results)')
  .addHelpText('after', protocolLanguagesHelp())
  .action(run(() => import('./commands/new.js')));

command('note', 'append a dated entry (## YYYY-MM-DD HH:MM UTC) to the field notes')
  .argument('<id>', 'specimen ID')
  .argument('[text]', 'the entry (- or none: read standard input)')
  .option('--file <file>', 'read the entry from a file (- for stdin)')
  .action(run(() => import('./commands/note.js')));

command(
  'set',
  "edit a specimen's notebook fields: hypothesis, expected_results, conclusion, description, status, tags",
)
  .argument('<id>', 'specimen ID')
  .argument('<assignments...>', 'KEY=VALUE pairs; tags=a,b replaces the tags; KEY= clears a text field')
  .addHelpText(
    'after',
    '\nStatus: planned (only before any run), active, concluded (needs a conclusion), archived, deprecated.',
  )
  .action(run(() => import('./commands/set.js')));

command('conclude', 'record the conclusion of a specimen and mark it concluded')
  .argument('<id>', 'specimen ID')
  .argument('[text]', 'the conclusion (- or none: read standard input)')
  .option('--file <file>', 'read the conclusion from a file (- for stdin)')
  .action(run(() => import('./commands/conclude.js')));

command(
  'demo',
  'create a demo vault, run the synthetic demo specimen as a sealed run, and show what was stored',
)
  .argument('[dir]', 'directory of the demo vault', './demo-vault')
  .option('--no-serve', 'stop after printing results instead of serving the web UI')
  .option(
    '--live',
    'while serving, train the rest of the grokking sweep as live runs (default on a terminal)',
  )
  .option('--no-live', 'serve without starting live runs')
  .action(run(() => import('./commands/demo.js')));

command('run', "execute a specimen's protocol in a new run, recording provenance, logs, metrics and tensors")
  .argument('<id>', 'specimen ID')
  .argument('[command...]', 'command to run instead of the protocol file (after --)')
  .option('--seed <n>', 'seed, passed as SPECIMEN_SEED (default 0)')
  .option(
    '--set <key=value>',
    'config value (JSON; repeatable; dots nest: opt.lr=0.1)',
    (v: string, acc: string[] = []) => [...acc, v],
  )
  .option('--python <path>', `Python interpreter for ${pythonFiles} (default python3)`)
  .option('--push', 'push the run to the remote once sealed (also: "pushOnSeal" in the remote config)')
  .option(
    '--system-interval <seconds>',
    'seconds between system-metric samples (default: "system.interval_s" in the vault config, else 5)',
  )
  .option('--no-system', 'do not sample system metrics (CPU, memory, GPU) of the protocol')
  .option(
    '--durability <mode>',
    'run: durable when sealed; batch: fsynced with the others within 1 s (default: "durability" in the vault config, else batch)',
  )
  .addHelpText(
    'after',
    `\nRuns the first of ${listOr(PROTOCOL_FILES)},\nor the command after --.\n` +
      "Exit status: the protocol's exit code; 130 when interrupted.",
  )
  .action(run(() => import('./commands/run.js')));

command('begin', 'create a run for another process (the Python package) to write into; prints its directory')
  .argument('<id>', 'specimen ID')
  .option(
    '--request <file>',
    'JSON request: config, seed, name, tags, notes, owner, command, cwd, python (- for stdin)',
  )
  .option('--no-provenance', 'skip git, host and dependency probes')
  .option('--json', 'print {specimen_id, run_id, run_dir, vault, zarr_format} as JSON')
  .action(run(() => import('./commands/begin.js')));

command(
  'seal',
  'seal a run begun with `specimen begin`: convert metrics.jsonl and .npy files, hash, make read-only',
)
  .argument('<id>', 'specimen ID')
  .argument('<run>', 'run ID')
  .option(
    '--status <status>',
    'succeeded, failed or interrupted (default: what finish.json says, else succeeded)',
  )
  .option(
    '--durability <mode>',
    'run: durable when sealed; batch: fsynced with the others within 1 s (default: "durability" in the vault config, else batch)',
  )
  .option('--json', 'machine-readable result')
  .action(run(() => import('./commands/seal.js')));

command(
  'session',
  'begin and seal runs for another process over stdin/stdout, one JSON request per line (used by the Python package)',
)
  .option(
    '--durability <mode>',
    'run: durable when sealed; batch: fsynced with the others within 1 s (default: "durability" in the vault config, else batch)',
  )
  .action(run(() => import('./commands/session.js')));

command(
  'adopt',
  'seal runs staged in pending/ where no CLI was reachable, and incomplete runs whose writer died',
)
  .argument('[ids...]', 'specimen IDs (default: all)')
  .option('--force', 'also adopt staged runs whose writer may still be running on another host')
  .option('--json', 'machine-readable report')
  .action(run(() => import('./commands/adopt.js')));

command('reproduce', 're-execute a run with its recorded seed and config and compare the outputs')
  .argument('<id>', 'specimen ID')
  .option('--run <run>', 'run to reproduce (default: latest sealed run)')
  .option('--rtol <x>', 'relative tolerance (default 0)')
  .option('--atol <y>', 'absolute tolerance (default 0)')
  .option('--ignore <cols>', 'comma-separated metric columns or tensors expected to differ')
  .option('--python <path>', `Python interpreter for ${pythonFiles}`)
  .option('--json', 'print the comparison as JSON')
  .addHelpText('after', '\nExit status: 0 identical or within tolerance, 1 differs.')
  .action(run(() => import('./commands/reproduce.js')));

command('diff', 'show what differs between two runs: config, seed, code, environment and dependencies')
  .argument('<run_a>', 'first run, <specimen_id>/<run_id>')
  .argument('<run_b>', 'second run, <specimen_id>/<run_id>')
  .option('--json', 'machine-readable output')
  .action(run(() => import('./commands/diff.js')));

command('supersede', 'mark a run as superseded by another (the sealed run is not modified)')
  .argument('<id>', 'specimen ID')
  .argument('<run>', 'run that is superseded')
  .requiredOption('--by <run>', 'run that supersedes it')
  .option('--reason <text>', 'why')
  .action(run(() => import('./commands/supersede.js')));

command('verify', 'recompute the hashes of sealed runs and list every changed, missing or extra file')
  .argument('[ids...]', 'specimen IDs (default: all)')
  .option('--json', 'machine-readable report')
  .option('--remote', "verify the remote's committed runs instead (every object re-read and hashed)")
  .addHelpText('after', '\nExit status: 0 all sealed runs intact, 1 some run was modified.')
  .action(run(() => import('./commands/verify.js')));

command('push', 'upload sealed runs and specimen files that the remote (specimen-vault.json "remote") lacks')
  .argument('[ids...]', 'specimen IDs (default: all)')
  .option(
    '--cleanup',
    'first remove what abandoned pushes left: incomplete multipart uploads and objects of uncommitted runs',
  )
  .option('--older-than <age>', 'with --cleanup: only what is older than this (30m, 24h, 2d; default 24h)')
  .option('--json', 'machine-readable report')
  .addHelpText(
    'after',
    '\nExit status: 0 all pushed, 2 remote misconfigured or unreachable, 4 a conflict kept something local.',
  )
  .action(run(() => import('./commands/push.js')));

command('pull', 'download committed runs and specimen files from the remote, verifying every file')
  .argument('[ids...]', 'specimen IDs')
  .option('--all', 'every specimen on the remote')
  .option('--json', 'machine-readable report')
  .addHelpText(
    'after',
    '\nExit status: 0 all pulled, 1 a run was refused (bytes do not match its manifest), 2 remote misconfigured or unreachable, 4 conflict.',
  )
  .action(run(() => import('./commands/pull.js')));

command(
  'fetch',
  'bring the metrics of runs cataloged by `index --remote` into the local object cache, so the views include them',
)
  .argument('[ids...]', 'specimen IDs (default: all)')
  .option('--tensors', 'also the tensors (the web UI otherwise reads their chunks on demand)')
  .option('--json', 'machine-readable report')
  .addHelpText(
    'after',
    '\nExit status: 0 fetched, 1 an object does not match its run manifest, 2 remote misconfigured or unreachable.',
  )
  .action(run(() => import('./commands/fetch.js')));

command('sync', 'pull, then push: both sides end up with every run; concurrent note edits are merged')
  .argument('[ids...]', 'specimen IDs (default: all)')
  .option('--json', 'machine-readable reports (pull, then push)')
  .action(run(() => import('./commands/sync.js')));

command(
  'turns',
  "find the turn of each run's metrics: the sharp transition of grokking (see docs/analysis.md)",
)
  .argument('[ids...]', 'specimen IDs (default: all)')
  .option(
    '--metric <metric...>',
    "metrics to look at (default: the vault config's turns.metrics, else every numeric metric)",
  )
  .option('--json', 'machine-readable output')
  .action(run(() => import('./commands/turns.js')));

command('log', 'write the experiment log of specimens as Markdown: one entry per run in time order')
  .argument('<ids...>', 'specimen IDs')
  .option('--format <format>', 'output format: md (GitHub-flavoured Markdown)', 'md')
  .option('--metric <metric...>', 'metrics to summarize per run (default: every numeric metric)')
  .option('--out <file>', 'write to this file instead of stdout')
  .action(run(() => import('./commands/log.js')));

command('report', 'write one self-contained HTML report (charts, runs, config diff, notes, provenance)')
  .argument('[refs...]', 'specimen IDs or runs as <specimen_id>/<run_id>')
  .option('--query <sql>', 'add the result of this read-only SQL query as a table')
  .option('--view <name>', 'export the saved view views/<name>.json')
  .option('--metric <metric...>', 'metrics to chart (default: every numeric metric, at most 12)')
  .requiredOption('--out <file>', 'the HTML file to write')
  .action(run(() => import('./commands/report.js')));

command('migrate', 'move legacy strata/ runs to the runs/ layout, verifying every byte before and after')
  .option('--dry-run', 'show what would move without changing anything')
  .action(run(() => import('./commands/migrate.js')));

command(
  'show',
  'show a specimen: manifest, runs, metric summaries (with sparklines on a terminal), tensors, field notes',
)
  .argument('<id>', 'specimen ID')
  .option('--run <run>', 'run to detail (default: the latest)')
  .option('--json', 'machine-readable output')
  .action(run(() => import('./commands/show.js')));

command('import', 'import runs from MLflow, TensorBoard, W&B, Trackio or Neptune files as sealed runs')
  .argument('<source>', 'mlflow, tensorboard, wandb, trackio or neptune')
  .argument(
    '<path>',
    'what the tool wrote: mlflow.db or mlruns/, a logdir, wandb/ runs, a .db, Parquet files',
  )
  .option('--specimen <id>', 'put every run into this specimen (created when missing)')
  .option(
    '--map <rules>',
    'EXPERIMENT=SPECIMEN_ID, comma-separated, repeatable',
    (v: string, acc: string[] = []) => [...acc, v],
  )
  .option('--dry-run', 'list what would be created without writing anything')
  .option('--domain <domain>', 'taxonomy domain of new specimens', 'training')
  .option('--method <method>', 'taxonomy method of new specimens', 'fine_tuning')
  .option('--json', 'print the summary as JSON')
  .addHelpText(
    'after',
    '\nRe-importing the same source adds nothing new. Exit status: 0 imported, 1 partial (problems listed), 2 nothing readable, 3 PATH not found.',
  )
  .action(run(() => import('./commands/import.js')));

command('index', 'update the catalog vault.duckdb (only what changed, or everything with --full)')
  .option('--full', 'rebuild the catalog from scratch')
  .option('--quiet', 'print warnings only')
  .option(
    '--remote',
    "also catalog the remote's runs from its listing and run manifests (no metrics or tensors downloaded)",
  )
  .addHelpText(
    'after',
    '\nExit status: 0 indexed (warnings are printed for skipped specimens), 1 nothing could be indexed, 2 remote misconfigured or unreachable.',
  )
  .action(run(() => import('./commands/index.js')));

command('query', 'run SQL against the catalog (read-only)')
  .argument('<sql>', 'the query, e.g. "SELECT specimen_id FROM catalog WHERE array_contains(tags, \'gpt2\')"')
  .option('--format <format>', 'table, json, csv or parquet', 'table')
  .option('--out <file>', 'write the result to a file (required for parquet)')
  .option(
    '--timeout <ms>',
    'time limit in milliseconds (default 5000, or query.timeout_ms of the vault config)',
  )
  .addHelpText(
    'after',
    "\nRuns in a separate process with the SQL console's limits (time, memory, result size; see docs/api.md).\nExit status: 0 ok, 2 SQL error (DuckDB message with position) or a limit passed.",
  )
  .action(run(() => import('./commands/query.js')));

command('ls', 'list specimens from the catalog')
  .option('--domain <domain>', 'only this domain')
  .option('--method <method>', 'only this method')
  .option('--tag <tag>', 'only specimens with this tag')
  .option('--status <status>', 'specimen status (planned, active, concluded, …) or latest run status')
  .option('--json', 'machine-readable output')
  .action(run(() => import('./commands/ls.js')));

command('serve', 'serve the web UI and its JSON API over the vault (127.0.0.1 by default)')
  .option('--port <n>', 'port (0 picks a free one)', '7373')
  .option('--host <host>', 'address to bind; beyond loopback an access token is required')
  .option('--token <token>', 'access token (generated and printed when binding beyond loopback)')
  .option('--open', 'open the browser')
  .option('--query-timeout <ms>', 'time limit of one SQL console query in milliseconds (default 5000)')
  .option('--no-watch', 'do not keep the catalog current by itself (Re-index updates it)')
  .action(run(() => import('./commands/serve.js')));

program.parseAsync(process.argv).catch((err: unknown) => {
  // Commander has already printed its message (and the help hint) for an argument error.
  process.exitCode = err instanceof CommanderError ? argumentErrorExitCode(err) : reportError(err);
});

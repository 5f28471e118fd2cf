#!/usr/bin/env node
/**
 * `specimen`: the command-line interface. This file only declares commands; each command's code (and with
 * it DuckDB, Arrow and Zarr) is imported when that command runs, so `specimen --help` starts fast.
 *
 * @example
 * specimen demo ./demo-vault
 * specimen --vault ./demo-vault show example_2024_12_19_synthetic_demo
 */
import { Command, Option } from 'commander';
import { EXIT, reportError } from './exit.js';

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
  .addHelpText(
    'after',
    `
Exit codes: 0 success, 1 check failed, 2 bad input, 3 not found, 4 conflict, 70 internal error.
Colour is used only on a terminal and never when NO_COLOR is set.`,
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
  .option('--protocol <ts|js|py>', 'write a protocol template in this language')
  .action(run(() => import('./commands/new.js')));

command(
  'demo',
  'create a demo vault, run the synthetic demo specimen as a sealed run, and show what was stored',
)
  .argument('[dir]', 'directory of the demo vault', './demo-vault')
  .option('--no-serve', 'stop after printing results instead of serving the web UI')
  .action(run(() => import('./commands/demo.js')));

program.parseAsync(process.argv).catch((err: unknown) => {
  process.exitCode = reportError(err);
});

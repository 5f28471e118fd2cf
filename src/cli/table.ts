/**
 * Terminal tables for the commands that print them (ls, show, query, demo). Kept apart from output.ts so
 * that cli-table3 and its string-width dependencies load only for those commands, not for `specimen run`.
 *
 * @example
 * const t = makeTable(['specimen', 'runs'])
 * t.push(['2025_01_02_probe', '3'])
 * console.log(t.toString())
 */
import Table from 'cli-table3';

/** A compact bordered table (cli-table3) with no rules between rows and no colour codes of its own. */
export function makeTable(head: string[]): Table.Table {
  return new Table({
    head,
    style: { head: [], border: [], compact: true },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
}

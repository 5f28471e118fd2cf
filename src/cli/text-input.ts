/**
 * The text of a note or conclusion given on the command line: the argument, `--file F`, or standard input
 * (`-` as the argument or `--file -`, or no argument while stdin is not a terminal).
 *
 * @example
 * const text = await readTextInput('note', textArg, opts.file)   // UsageError when there is none
 */
import fsp from 'node:fs/promises';
import { UsageError } from '../errors.js';

export async function readTextInput(
  what: string,
  arg: string | undefined,
  file: string | undefined,
): Promise<string> {
  if (arg !== undefined && file !== undefined)
    throw new UsageError(`${what}: give the text or --file, not both`);
  const source = file ?? (arg === '-' ? '-' : undefined);
  if (source === undefined && arg !== undefined) return arg;
  if (source === undefined && process.stdin.isTTY)
    throw new UsageError(`${what}: give the text as an argument, with --file F, or on standard input`);
  if (source === undefined || source === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await fsp.readFile(source, 'utf8');
  } catch (err) {
    throw new UsageError(
      `${what}: cannot read --file ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

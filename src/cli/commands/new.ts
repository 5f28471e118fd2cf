/**
 * `specimen new <ID> --domain D --method M [--status planned --hypothesis H --expected E] [...]`: scaffolds
 * a specimen (manifest, protocol, field notes); `--status planned` records an experiment before it runs.
 */

import { PROTOCOL_KINDS, type ProtocolKind, protocolLanguage } from '../../format/protocols.js';
import { scaffoldSpecimen } from '../../storage/scaffold.js';
import { Vault } from '../../storage/vault.js';
import { UsageError } from '../exit.js';
import { painter } from '../output.js';

export interface NewOptions {
  domain: string;
  method: string;
  tags?: string;
  model?: string;
  description?: string;
  protocol?: string;
  status?: string;
  hypothesis?: string;
  expected?: string;
  vault?: string;
}

export default async function newSpecimen(id: string, opts: NewOptions): Promise<number> {
  if (opts.protocol !== undefined && !protocolLanguage(opts.protocol))
    throw new UsageError(
      `--protocol must be one of ${PROTOCOL_KINDS.join(', ')}, got ${JSON.stringify(opts.protocol)}`,
    );
  if (opts.status !== undefined && opts.status !== 'active' && opts.status !== 'planned')
    throw new UsageError(`--status must be active or planned, got ${JSON.stringify(opts.status)}`);
  const vault = await Vault.open(opts.vault);
  const tags = (opts.tags ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const entry = await vault.createSpecimen({
    specimenId: id,
    domain: opts.domain,
    method: opts.method,
    tags,
    ...(opts.model !== undefined ? { model: opts.model } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    ...(opts.status !== undefined ? { status: opts.status as 'active' | 'planned' } : {}),
    ...(opts.hypothesis !== undefined ? { hypothesis: opts.hypothesis } : {}),
    ...(opts.expected !== undefined ? { expectedResults: opts.expected } : {}),
  });
  const files = await scaffoldSpecimen(entry.path, entry.manifest, opts.protocol as ProtocolKind | undefined);
  const paint = painter();
  const planned =
    entry.manifest.status === 'planned' ? ' (planned: it becomes active with its first run)' : '';
  console.log(`${paint('green', 'created')} specimen ${id} at ${entry.path}${planned}`);
  for (const f of ['manifest.msgpack', ...files]) console.log(`  ${f}`);
  return 0;
}

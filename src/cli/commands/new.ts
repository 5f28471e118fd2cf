/** `specimen new <ID> --domain D --method M [...]`: scaffolds a specimen (manifest, protocol, field notes). */

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
  vault?: string;
}

export default async function newSpecimen(id: string, opts: NewOptions): Promise<number> {
  if (opts.protocol !== undefined && !protocolLanguage(opts.protocol))
    throw new UsageError(
      `--protocol must be one of ${PROTOCOL_KINDS.join(', ')}, got ${JSON.stringify(opts.protocol)}`,
    );
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
  });
  const files = await scaffoldSpecimen(entry.path, entry.manifest, opts.protocol as ProtocolKind | undefined);
  const paint = painter();
  console.log(`${paint('green', 'created')} specimen ${id} at ${entry.path}`);
  for (const f of ['manifest.msgpack', ...files]) console.log(`  ${f}`);
  return 0;
}

/**
 * Files a new specimen starts with: `field_notes.md` (purpose, methodology, observations, results,
 * next_steps) and the protocol template of a language from format/protocols.ts, which runs as is under
 * `specimen run` and logs a few metrics.
 *
 * @example
 * await scaffoldSpecimen(dir, manifest, 'py')   // writes field_notes.md and protocol.py
 */

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../format/atomic-write.js';
import { FIELD_NOTES_FILE } from '../format/layout.js';
import type { SpecimenManifest } from '../format/manifest.js';
import { type ProtocolKind, protocolLanguage } from '../format/protocols.js';

/** The field notes a specimen starts with. */
export function fieldNotesTemplate(m: SpecimenManifest): string {
  const tags = m.tags.length > 0 ? m.tags.map((t) => `\`${t}\``).join(', ') : '—';
  return `# ${m.specimen_id}

- **Domain / method:** ${m.taxonomy.domain} / ${m.taxonomy.method}
- **Model:** ${m.model ?? '—'}
- **Tags:** ${tags}
- **Created:** ${m.created}

## Purpose

${m.description || 'What question does this specimen answer?'}

## Methodology

How the protocol works: data, model, hyper-parameters, seeds.

## Observations

What you saw while it ran.

## Results

Key figures and where they live (\`specimen show ${m.specimen_id}\`).

## Next steps

What to try next.
`;
}

/** Writes field notes and (when `kind` is given) a protocol; never overwrites an existing file. */
export async function scaffoldSpecimen(
  dir: string,
  m: SpecimenManifest,
  kind?: ProtocolKind,
): Promise<string[]> {
  const written: string[] = [];
  const put = async (name: string, text: string): Promise<void> => {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return;
    await writeFileAtomic(file, text);
    written.push(name);
  };
  await put(FIELD_NOTES_FILE, fieldNotesTemplate(m));
  if (kind) {
    const language = protocolLanguage(kind);
    await put(language.files[0], language.template(m));
  }
  return written;
}

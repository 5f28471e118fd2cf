// The protocol languages table: one row per language, read by the runner, scaffold, server, CLI and demo.
import { describe, expect, it } from 'vitest';
import type { SpecimenManifest } from '../../../src/format/manifest.js';
import {
  listOr,
  PROTOCOL_FILES,
  PROTOCOL_KINDS,
  PROTOCOL_LANGUAGES,
  protocolLanguage,
} from '../../../src/format/protocols.js';

const manifest = {
  specimen_id: '2025_01_02_probe',
  taxonomy: { domain: 'interpretability', method: 'probe_training' },
} as SpecimenManifest;

describe('protocol languages', () => {
  it('list every file once, in the order the runner looks for them', () => {
    expect(PROTOCOL_KINDS).toEqual(['ts', 'js', 'py']);
    expect(PROTOCOL_FILES).toEqual(['protocol.ts', 'protocol.js', 'protocol.mjs', 'protocol.py']);
    expect(new Set(PROTOCOL_FILES).size).toBe(PROTOCOL_FILES.length);
    expect(listOr(PROTOCOL_FILES)).toBe('protocol.ts, protocol.js, protocol.mjs or protocol.py');
  });

  it.each(PROTOCOL_LANGUAGES.map((l) => [l.kind, l] as const))(
    '%s: writes protocol.<kind> from a template naming the specimen',
    (kind, lang) => {
      expect(protocolLanguage(kind)).toBe(lang);
      expect(lang.files[0]).toBe(`protocol.${kind}`);
      const source = lang.template(manifest);
      expect(source).toContain('Protocol of specimen 2025_01_02_probe (interpretability / probe_training).');
      expect(source).toContain('specimen run 2025_01_02_probe');
      expect(source).toContain('metrics.jsonl');
    },
  );

  it('says how each language is started', () => {
    expect(protocolLanguage('ts').command).toEqual({ runtime: 'node', preload: ['tsx'] });
    expect(protocolLanguage('js').command).toEqual({ runtime: 'node', preload: [] });
    expect(protocolLanguage('py').command).toEqual({ runtime: 'python', flags: ['-u'] });
    expect(protocolLanguage('rb')).toBeUndefined();
  });
});

/**
 * The taxonomy of specimens: which domains exist, which methods, and which method belongs to which domain.
 * A vault may extend the table in its config file (`taxonomy.domains`); extensions add to the defaults.
 *
 * @example
 * const t = mergeTaxonomy(DEFAULT_TAXONOMY, { domains: { robotics: ['fine_tuning'] } })
 * assertTaxonomy(t, 'training', 'sae_analysis') // throws TaxonomyError listing training's methods
 */
import { TaxonomyError } from '../errors.js';

/** Domain → allowed methods. */
export type Taxonomy = Readonly<Record<string, readonly string[]>>;

/** The built-in table. */
export const DEFAULT_TAXONOMY: Taxonomy = Object.freeze({
  interpretability: ['sae_analysis', 'probe_training', 'ablation_study'],
  training: ['fine_tuning', 'ablation_study'],
  benchmarking: ['ablation_study'],
  alignment: ['fine_tuning', 'probe_training', 'ablation_study'],
});

/** Adds `extension` (domain → extra methods) to `base`. */
export function mergeTaxonomy(
  base: Taxonomy,
  extension: Record<string, readonly string[]> | undefined,
): Taxonomy {
  const out: Record<string, string[]> = {};
  for (const [d, ms] of Object.entries(base)) out[d] = [...ms];
  for (const [d, ms] of Object.entries(extension ?? {})) {
    const list = out[d] ?? [];
    for (const m of ms) if (!list.includes(m)) list.push(m);
    out[d] = list;
  }
  return out;
}

/** All methods of a taxonomy, in first-seen order. */
export function allMethods(t: Taxonomy): string[] {
  return [...new Set(Object.values(t).flat())];
}

/** Throws TaxonomyError unless `domain` exists and allows `method`; the message lists the valid choices. */
export function assertTaxonomy(t: Taxonomy, domain: string, method: string): void {
  const methods = t[domain];
  if (!methods) {
    const domains = Object.keys(t);
    throw new TaxonomyError(
      `taxonomy: domain ${JSON.stringify(domain)} is not allowed; valid domains: ${domains.join(', ')}`,
      domain,
      method,
      domains,
    );
  }
  if (!methods.includes(method)) {
    const pairs = Object.entries(t)
      .filter(([, ms]) => ms.includes(method))
      .map(([d]) => d);
    const elsewhere = pairs.length > 0 ? ` (${method} belongs to: ${pairs.join(', ')})` : '';
    throw new TaxonomyError(
      `taxonomy: method ${JSON.stringify(method)} is not allowed for domain ${JSON.stringify(domain)}; ` +
        `valid methods for ${domain}: ${methods.join(', ')}${elsewhere}`,
      domain,
      method,
      methods,
    );
  }
}

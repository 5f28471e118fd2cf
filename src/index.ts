/**
 * specimen-vault: a local-first archive for machine-learning experiments.
 */
export * from './errors.js';
export {
  assertNewSpecimenId,
  assertSafeName,
  compareRunIds,
  RUN_ID_PATTERN,
  SPECIMEN_ID_PATTERN,
} from './format/ids.js';

export * from './api.js';
export { createValidator, type ValidatorOptions } from './validator.js';
export { REPLACED_CONSTRAINTS } from './invariants.js';

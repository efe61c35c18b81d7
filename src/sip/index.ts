/** The canonical SIP model: schemas, identifiers, rules and what follows from a plan. */
export * from './model/index.js';
export * from './identifiers.js';
export * from './dates.js';
export * from './problem.js';
export * from './parse.js';
export * from './model-version.js';
export * from './json-text.js';
export * from './plan-index.js';
export * from './consent-status.js';
export * from './approval-digest.js';
export * from './law.js';
export * from './lifecycle.js';
export * from './rules/index.js';
export * from './transitions.js';
export * from './meeting-transitions.js';
export * from './without-information.js';
export * from './same-person.js';

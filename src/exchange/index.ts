/** Exchange with external systems: declarative mappings of their formats (mappings/). */
export * from './mapping/index.js';

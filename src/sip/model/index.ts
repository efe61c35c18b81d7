export * from './common.js';
export * from './participants.js';
export * from './consent.js';
export * from './meeting.js';
export * from './decision.js';
export * from './plan.js';

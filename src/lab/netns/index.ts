// The netns lab's public surface: integration tests, the benchmark and the qemu guest use these.
export { labAvailability, skipLabSuite, type LabAvailability } from './availability.js';
export { createLab, type CreateOptions } from './create.js';
export { destroyLab, type DestroyReport } from './destroy.js';
export { flatLabSpec } from './flat-spec.js';
export { Lab, openLab, type LabHost, type ReplacedLab, type StartTimings } from './lab.js';
export { labSpecSchema, parseLabSpec, type LabSpec } from './spec.js';
export { loadState } from './state.js';

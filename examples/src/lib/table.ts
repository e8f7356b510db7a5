/** Aligned plain-text tables: the demo's, shipped in @vigil/cli. */
export { type Column, formatTable } from '@vigil/cli/demo';

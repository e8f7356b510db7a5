/** Terminal colours: the demo's, shipped in @vigil/cli so `vigil demo` runs from the installed package. */
export { bold, cyan, dim, green, plain, red, yellow } from '@vigil/cli/demo';

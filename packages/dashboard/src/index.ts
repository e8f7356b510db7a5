export type { Dashboard, DashboardOptions } from './server.js';
export { dashboard } from './server.js';

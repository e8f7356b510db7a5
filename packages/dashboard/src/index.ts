export type { Dashboard, DashboardOptions } from './server.js';
export { dashboard, databaseDashboard } from './server.js';

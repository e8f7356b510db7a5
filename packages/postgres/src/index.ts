/** @vigil/postgres: the alarm store on PostgreSQL, shared by several nodes. */
export { isUnavailable } from './errors.js';
export { migratePostgres, POSTGRES_SCHEMA_VERSION } from './migrations.js';
export type { ClockSkew, PostgresAlarmStore, PostgresStoreOptions } from './store.js';
export { openPostgresStore, postgresStore } from './store.js';

/** @vigil/postgres: the alarm store and the workflow run store on PostgreSQL, shared by several nodes. */
export { isUnavailable } from './errors.js';
export { migratePostgres, POSTGRES_SCHEMA_VERSION } from './migrations.js';
export { RunStoreError } from './run-errors.js';
export { POSTGRES_RUN_SCHEMA_VERSION } from './run-migrations.js';
export type { PostgresRunStoreOptions } from './run-store.js';
export { openPostgresRunStore, postgresRunStore } from './run-store.js';
export type { ClockSkew, PostgresAlarmStore, PostgresStoreOptions } from './store.js';
export { openPostgresStore, postgresStore } from './store.js';

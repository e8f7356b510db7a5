/** @vigil/postgres: the alarm store on PostgreSQL. */
export { migratePostgres, POSTGRES_SCHEMA_VERSION } from './migrations.js';
export type { PostgresStoreOptions } from './store.js';
export { openPostgresStore } from './store.js';

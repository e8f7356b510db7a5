/**
 * How the `pg` driver reads column types back: int8 as a JavaScript number (every bigint column
 * of Vigil's tables holds a safe integer: epoch milliseconds, ids, counts) and bytea as the UTF-8
 * text it was written from (Vigil stores free text as bytea because text cannot hold NUL).
 */
import pg from 'pg';

/** The `types` option of a `pg.Pool` for Vigil's tables. @internal */
export const typeParsers = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20) return (v: string) => Number(v);
    if (oid === 17) return (v: string) => Buffer.from(v.slice(2), 'hex').toString('utf8');
    return (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

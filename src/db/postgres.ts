/**
 * PostgreSQL behind Kysely's PostgresDialect, for several instances sharing one database.
 *
 * Everything comes from the DATABASE_URL: host, port, user, password, database, and TLS from
 * `sslmode` with libpq's meanings (what operators expect of a postgres:// URL), so the
 * environment's PG* variables never change the connection behind the operator's back.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { ConfigError, type SslMode } from '../config.js';

/**
 * Connections per process. A process runs at most a dozen publish jobs at once, each holding a
 * connection only for the length of a query or a short transaction, plus HTTP requests; ten
 * keeps three instances at 30 of PostgreSQL's default 100 connections.
 */
export const POSTGRES_POOL_SIZE = 10;

const INT8_OID = 20;

/** `bigint` columns (media sizes) as numbers, as SQLite gives them: they are far below 2^53. */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`a bigint value (${value}) is too large for a JavaScript number`);
  return n;
}

let loaded: typeof pg | undefined;

/**
 * pg, loaded when a PostgreSQL pool is first made: an install on SQLite never holds it (some
 * 9 MB resident, issue 19). CommonJS, so `require` loads it synchronously.
 */
function pgLibrary(): typeof pg {
  loaded ??= createRequire(import.meta.url)('pg') as typeof pg;
  return loaded;
}

/** The type parsers of our pools: pg's own, except int8. Per pool, so no global parser is changed. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : (pgLibrary().types.getTypeParser(oid, format) as (value: string) => unknown)) as pg.CustomTypesConfig['getTypeParser'],
};

/** URL parameters that configure TLS; they are read here and removed from the string pg parses. */
const SSL_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'uselibpqcompat'];

/**
 * TLS options for a mode, as libpq defines them: `require` encrypts without checking the
 * certificate (unless a root certificate is given, then it checks the chain like verify-ca),
 * `verify-ca` checks the chain, `verify-full` the chain and the host name. `prefer` encrypts
 * without checks (pg cannot fall back to plain text, so a server without TLS refuses it).
 */
export function tlsOptions(url: URL): ConnectionOptions | false {
  // config.ts has checked the value (sslModeOf), so a mode here is one of SslMode.
  const mode = (url.searchParams.get('sslmode') ?? undefined) as SslMode | undefined;
  if (mode === undefined || mode === 'disable') return false;
  const file = (name: string) => {
    const at = url.searchParams.get(name);
    if (!at) return undefined;
    try {
      return readFileSync(at, 'utf8');
    } catch (error) {
      throw new ConfigError('DATABASE_URL', `${name} ${at} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  };
  const options: ConnectionOptions = {};
  const ca = file('sslrootcert');
  const cert = file('sslcert');
  const key = file('sslkey');
  if (ca) options.ca = ca;
  if (cert) options.cert = cert;
  if (key) options.key = key;
  const skipHostCheck = () => undefined;
  switch (mode) {
    case 'prefer':
      return { ...options, rejectUnauthorized: false };
    case 'require':
      return ca ? { ...options, checkServerIdentity: skipHostCheck } : { ...options, rejectUnauthorized: false };
    case 'verify-ca':
      return { ...options, checkServerIdentity: skipHostCheck };
    case 'verify-full':
      return options;
  }
}

/** The pool configuration for a postgres:// URL (exported for tests; nothing here connects). */
export function postgresPoolConfig(url: string): pg.PoolConfig {
  const parsed = new URL(url);
  const ssl = tlsOptions(parsed);
  for (const name of SSL_PARAMETERS) parsed.searchParams.delete(name);
  return {
    connectionString: parsed.toString(),
    // Always explicit, so PGSSLMODE in the environment cannot change what the URL says.
    ssl,
    max: POSTGRES_POOL_SIZE,
    idleTimeoutMillis: 30_000,
    // A database that does not answer fails the query (and /readyz) instead of hanging it.
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    application_name: 'iqsp',
    types: TYPES,
  };
}

/**
 * A pool for `url`. A connection that fails (the server restarted or terminated it, a network
 * blip) is reported to `onConnectionError`, whether it was idle in the pool or checked out
 * between two queries of a transaction: the query in flight, if any, fails on its own, and the
 * pool opens another connection when needed. Without a listener on every client, the error of
 * a checked-out connection would end the process.
 */
export function createPostgresPool(url: string, onConnectionError: (error: Error) => void): pg.Pool {
  const pool = new (pgLibrary().Pool)(postgresPoolConfig(url));
  pool.on('connect', (client) => client.on('error', onConnectionError));
  // An idle connection's error is also emitted by the pool; the client's listener reported it.
  pool.on('error', () => undefined);
  return pool;
}

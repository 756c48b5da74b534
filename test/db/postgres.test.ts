/**
 * How a postgres:// DATABASE_URL becomes a connection pool: TLS from `sslmode` with libpq's
 * meanings, bigint as numbers, a bounded pool. Nothing here connects; the suite's PostgreSQL
 * pass (IQSP_TEST_DATABASE_URL) runs every other test against a real server.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { POSTGRES_POOL_SIZE, postgresPoolConfig } from '../../src/db/postgres.js';

const BASE = 'postgres://iqsp:s3cret@db.example.com:5432/iqsp';

describe('the PostgreSQL pool configuration', () => {
  it('connects where the URL says, with a bounded pool and a connection timeout', () => {
    const config = postgresPoolConfig(BASE);
    expect(config.connectionString).toBe(BASE);
    expect(config.max).toBe(POSTGRES_POOL_SIZE);
    expect(config.connectionTimeoutMillis).toBeGreaterThan(0);
    expect(config.application_name).toBe('iqsp');
  });

  it('parses bigint (int8) columns to numbers, and leaves other types to pg', () => {
    const { types } = postgresPoolConfig(BASE);
    const int8 = types!.getTypeParser(20, 'text') as (value: string) => unknown;
    expect(int8('4294967303')).toBe(4294967303);
    expect(() => int8('9223372036854775807')).toThrow(/too large/);
    const int4 = types!.getTypeParser(23, 'text') as (value: string) => unknown;
    expect(int4('42')).toBe(42);
    const text = types!.getTypeParser(25, 'text') as (value: string) => unknown;
    expect(text('42')).toBe('42');
  });

  it('uses no TLS without sslmode, or with sslmode=disable, whatever PGSSLMODE says', () => {
    expect(postgresPoolConfig(BASE).ssl).toBe(false);
    expect(postgresPoolConfig(`${BASE}?sslmode=disable`).ssl).toBe(false);
  });

  it('encrypts without checking the certificate for sslmode=require and prefer (libpq)', () => {
    for (const mode of ['require', 'prefer']) {
      const config = postgresPoolConfig(`${BASE}?sslmode=${mode}`);
      expect(config.ssl, mode).toEqual({ rejectUnauthorized: false });
      // The TLS parameters are taken out, so pg does not derive its own (stricter) reading of them.
      expect(config.connectionString).toBe(BASE);
    }
  });

  it('checks the chain (and the host name for verify-full) against sslrootcert', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-pg-tls-'));
    const ca = path.join(dir, 'root.crt');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nnot-a-real-one\n-----END CERTIFICATE-----\n');
    const full = postgresPoolConfig(`${BASE}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`).ssl;
    expect(full).toEqual({ ca: expect.stringContaining('BEGIN CERTIFICATE') });
    const chainOnly = postgresPoolConfig(`${BASE}?sslmode=verify-ca&sslrootcert=${encodeURIComponent(ca)}`).ssl as {
      ca: string;
      checkServerIdentity: () => undefined;
      rejectUnauthorized?: boolean;
    };
    expect(chainOnly.ca).toContain('BEGIN CERTIFICATE');
    expect(chainOnly.rejectUnauthorized).toBeUndefined();
    expect(chainOnly.checkServerIdentity()).toBeUndefined();
    // require with a root certificate behaves like verify-ca, as in libpq.
    const required = postgresPoolConfig(`${BASE}?sslmode=require&sslrootcert=${encodeURIComponent(ca)}`).ssl as {
      rejectUnauthorized?: boolean;
      checkServerIdentity?: unknown;
    };
    expect(required.rejectUnauthorized).toBeUndefined();
    expect(typeof required.checkServerIdentity).toBe('function');
    expect(postgresPoolConfig(`${BASE}?sslmode=verify-full`).ssl).toEqual({});
  });

  it('names DATABASE_URL when sslrootcert cannot be read', () => {
    expect(() => postgresPoolConfig(`${BASE}?sslmode=verify-full&sslrootcert=/nonexistent/root.crt`)).toThrow(
      /DATABASE_URL: sslrootcert \/nonexistent\/root.crt cannot be read \(ENOENT\)/,
    );
  });
});

describe('DATABASE_URL=postgres://… in the configuration', () => {
  const load = (url: string) => loadConfig({ DATABASE_URL: url }, '/srv/iqsp');

  it('is accepted with postgres:// or postgresql://', () => {
    expect(load(BASE).database).toEqual({ kind: 'postgres', url: BASE });
    expect(load(BASE.replace('postgres:', 'postgresql:')).database.kind).toBe('postgres');
    // A Unix socket: libpq's host parameter.
    expect(load('postgres:///iqsp?host=/run/postgresql').database.kind).toBe('postgres');
  });

  it.each([
    ['postgres://db.example.com:5432/', /needs a database name/],
    ['postgres:///iqsp', /needs a host/],
    [`${BASE}?sslmode=sometimes`, /sslmode must be one of disable, prefer, require, verify-ca, verify-full \(got "sometimes"\)/],
    [`${BASE}?sslmode=allow`, /sslmode=allow is not supported/],
    [`${BASE}?sslmode=verify-ca`, /sslmode=verify-ca needs sslrootcert=PATH/],
  ])('refuses %s, naming DATABASE_URL and never the password', (url, problem) => {
    let error: unknown;
    try {
      load(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('DATABASE_URL');
    expect((error as Error).message).toMatch(problem);
    expect((error as Error).message).not.toContain('s3cret');
  });
});

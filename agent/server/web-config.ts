import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { z } from 'zod';
import { ConfigError, formatIssues, parseYaml } from '../config/load.js';
import { headerMap } from '../core/config-fields.js';
import { errorCode } from '../core/http.js';
import { registerSecret } from '../core/secrets.js';
import { readSmallFile, SmallFileError } from '../core/small-file.js';

const TLS_VERSIONS = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
} as const;
const CLIENT_AUTH = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;

/**
 * The web configuration file of the Prometheus exporter-toolkit, the one node_exporter and
 * blackbox_exporter read with --web.config.file: TLS and basic auth. Fields this agent does
 * not implement are refused by name ("unknown field") rather than silently ignored.
 */
const WebConfigSchema = z
  .strictObject({
    tls_server_config: z
      .strictObject({
        cert_file: z.string().min(1),
        key_file: z.string().min(1),
        client_auth_type: z.enum(CLIENT_AUTH).default('NoClientCert'),
        client_ca_file: z.string().min(1).optional(),
        min_version: z
          .enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS])
          .default('TLS12'),
        max_version: z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS]).optional(),
      })
      .refine((t) => !/Verify/.test(t.client_auth_type) || t.client_ca_file !== undefined, {
        message: 'needs client_ca_file to verify client certificates',
        path: ['client_ca_file'],
      })
      .optional(),
    http_server_config: z
      .strictObject({
        headers: headerMap().default({}),
      })
      .optional(),
    basic_auth_users: z
      .record(
        z
          .string()
          .min(1)
          .regex(/^[^:]+$/, 'a user name may not hold ":"'),
        z.string().regex(/^\$2[aby]?\$\d{2}\$[./A-Za-z0-9]{53}$/, 'must be a bcrypt hash'),
      )
      .optional(),
  })
  .nullable();

/** What the server applies: TLS options, the users, extra response headers. */
export interface WebSecurity {
  readonly tls:
    | (SecureContextOptions & {
        readonly requestCert: boolean;
        readonly rejectUnauthorized: boolean;
      })
    | undefined;
  readonly users: ReadonlyMap<string, string> | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

const MAX_FILE_BYTES = 1024 * 1024;

/** Reads and checks the web config file and the files it names; a problem is a ConfigError (exit 2). */
export async function loadWebConfig(path: string): Promise<WebSecurity> {
  const read = async (file: string, field: string) => {
    try {
      return await readSmallFile(file, MAX_FILE_BYTES);
    } catch (error) {
      const why =
        error instanceof SmallFileError
          ? error.message
          : ((error as NodeJS.ErrnoException).code ?? 'error');
      throw new ConfigError(path, [`${field}: cannot read ${file}: ${why}`]);
    }
  };
  const parsed = WebConfigSchema.safeParse(parseYaml(await read(path, '(file)'), path) ?? null);
  if (!parsed.success) throw new ConfigError(path, formatIssues(parsed.error.issues));
  const c = parsed.data ?? {};
  const t = c.tls_server_config;
  const tls = t
    ? {
        cert: await read(t.cert_file, 'tls_server_config.cert_file'),
        key: await read(t.key_file, 'tls_server_config.key_file'),
        ...(t.client_ca_file
          ? { ca: await read(t.client_ca_file, 'tls_server_config.client_ca_file') }
          : {}),
        minVersion: TLS_VERSIONS[t.min_version],
        ...(t.max_version ? { maxVersion: TLS_VERSIONS[t.max_version] } : {}),
        requestCert: t.client_auth_type !== 'NoClientCert',
        rejectUnauthorized: t.client_auth_type === 'RequireAndVerifyClientCert',
      }
    : undefined;
  if (tls) {
    // What the server would do at start, done now: a bad certificate, a key that is not its
    // key, a CA that does not parse is named here, not met as a crash on the way up.
    try {
      createSecureContext(tls);
    } catch (error) {
      throw new ConfigError(path, [
        `tls_server_config: ${tlsProblem(errorCode(error) ?? '', tls.ca !== undefined)}`,
      ]);
    }
  }
  for (const hash of Object.values(c.basic_auth_users ?? {})) registerSecret(hash);
  return {
    tls,
    users: c.basic_auth_users ? new Map(Object.entries(c.basic_auth_users)) : undefined,
    headers: c.http_server_config?.headers ?? {},
  };
}

/** What OpenSSL's refusal means for the files named, in the words of the web config. */
function tlsProblem(code: string, withCa: boolean): string {
  const files = `cert_file, key_file${withCa ? ' and client_ca_file' : ''}`;
  if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH')
    return `key_file is not the key of cert_file (${code})`;
  if (code.startsWith('ERR_OSSL_PEM_') || code === 'ERR_OSSL_UNSUPPORTED')
    return `${files}: one is not a PEM certificate or key (${code})`;
  return `${files} do not load together (${code || 'TLS error'})`;
}

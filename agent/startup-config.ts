import { CredentialError, readApiKey } from './core/credentials.js';
import { registerSecret } from './core/secrets.js';
import { loadWebConfig, type WebSecurity } from './server/web-config.js';
import { loadSuites } from './eval/suites.js';
import { ConfigError, parseConfig, readConfigFile, type AgentConfig } from './config/load.js';

/** A configuration the agent can start on: the config, and the web config it names. */
export interface StartupConfig {
  readonly config: AgentConfig;
  readonly security: WebSecurity | undefined;
}

/**
 * Everything that can be checked without starting, checked the same way by `check-config`,
 * by `run` before it starts and by a reload before it applies: the file against the schema,
 * then what it points at (API key files and variables, the web config file, its certificate
 * and key). Every problem is named by its field; none quotes a secret.
 */
export async function loadStartupConfig(
  file: string | undefined,
  overrides: Overrides = {},
): Promise<StartupConfig> {
  const config = await loadConfig(file, overrides);
  const source = sourceOf(file, overrides);
  const problems: string[] = [];
  for (const [i, target] of config.collectors.runtimes.targets.entries()) {
    try {
      await readApiKey({ apiKeyFile: target.api_key_file, apiKeyEnv: target.api_key_env });
    } catch (error) {
      if (!(error instanceof CredentialError)) throw error;
      const field = target.api_key_file !== undefined ? 'api_key_file' : 'api_key_env';
      problems.push(`collectors.runtimes.targets.${i}.${field}: ${error.message}`);
    }
  }
  if (config.evaluation.enabled) problems.push(...loadSuites(config.evaluation).problems);
  let security: WebSecurity | undefined;
  if (config.web.config_file) {
    try {
      security = await loadWebConfig(config.web.config_file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems.map((p) => `web.config_file (${error.source}): ${p}`));
    }
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return { config, security };
}

export interface Overrides {
  readonly listen?: string | undefined;
}

/** The config file (or the defaults) with the flags applied, checked against the schema only. */
export async function loadConfig(
  file: string | undefined,
  overrides: Overrides = {},
): Promise<AgentConfig> {
  const raw = file ? await readConfigFile(file) : {};
  const withFlags =
    overrides.listen !== undefined && isObject(raw) ? { ...raw, listen: overrides.listen } : raw;
  const config = parseConfig(withFlags, sourceOf(file, overrides));
  registerConfigSecrets(config);
  return config;
}

function sourceOf(file: string | undefined, overrides: Overrides): string {
  return file ?? (overrides.listen !== undefined ? '--listen' : 'config');
}

/** Header values the config holds are secrets: no output may quote them. */
function registerConfigSecrets(config: AgentConfig): void {
  for (const target of config.collectors.runtimes.targets)
    for (const value of Object.values(target.headers)) registerSecret(value);
  for (const value of Object.values(config.probe.otlp.headers)) registerSecret(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import { readSmallFile, SmallFileError } from './small-file.js';
import { registerSecret } from './secrets.js';

/** A credential that cannot be used. Its message names the file or variable, never the value. */
export class CredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialError';
  }
}

const MAX_KEY_FILE_BYTES = 64 * 1024;
/** What an HTTP header value can carry: visible ASCII (RFC 9110 field-vchar), no spaces. */
const TOKEN = /^[\x21-\x7e]+$/;

/** Where an API key comes from: a file, an environment variable, or nowhere. */
export interface KeySource {
  readonly apiKeyFile?: string | undefined;
  readonly apiKeyEnv?: string | undefined;
}

/**
 * The API key, read and checked: one line of visible characters. A file's trailing newline is
 * dropped; a second line, an empty file or a character a header cannot carry is refused by
 * name. Every key read is registered as a secret, so no output can quote it.
 */
export async function readApiKey(
  source: KeySource,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (source.apiKeyFile !== undefined) {
    const where = `api_key_file ${source.apiKeyFile}`;
    let text: string;
    try {
      text = await readSmallFile(source.apiKeyFile, MAX_KEY_FILE_BYTES);
    } catch (error) {
      // The reason only: a message quoting the file could quote the key.
      const reason =
        error instanceof SmallFileError
          ? error.message
          : ((error as NodeJS.ErrnoException).code ?? 'unreadable');
      throw new CredentialError(`cannot read ${where}: ${reason}`);
    }
    return checked(text.replace(/\r?\n$/, ''), where);
  }
  if (source.apiKeyEnv !== undefined) {
    const where = `environment variable ${source.apiKeyEnv}`;
    const value = env[source.apiKeyEnv];
    if (value === undefined || value === '')
      throw new CredentialError(`${where} is empty or unset`);
    return checked(value, where);
  }
  return undefined;
}

function checked(key: string, where: string): string {
  registerSecret(key);
  if (key === '') throw new CredentialError(`${where} is empty`);
  if (/[\r\n]/.test(key))
    throw new CredentialError(`${where} holds more than one line; it must hold the key alone`);
  if (!TOKEN.test(key))
    throw new CredentialError(`${where} holds a space or a character an HTTP header cannot carry`);
  return key;
}

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A CA (`ca.pem`, `ca.key`) and a server certificate for 127.0.0.1 signed by it
 * (`server.pem`, `server.key`), made by openssl in `dir`. False where openssl is missing
 * outside CI; in CI (`CI=true`) a missing openssl is a failure.
 */
export function makeServerCertificates(dir: string): boolean {
  try {
    execFileSync('openssl', ['version']);
  } catch {
    if (process.env.CI === 'true')
      throw new Error('openssl is required in CI (apt-get install openssl)');
    return false;
  }
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
  );
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
  return true;
}

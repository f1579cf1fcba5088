import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ssl = (dir: string, ...args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

/**
 * A key (`<name>.key`) and a certificate (`<name>.pem`) for `subject`, signed by the CA of
 * makeServerCertificates in `dir`; `san` is its subjectAltName, if it needs one.
 */
export function issueCertificate(dir: string, name: string, subject: string, san?: string): void {
  ssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  );
  const ext = san ? ['-extfile', `${name}.ext`] : [];
  if (san) writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  ssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    ...ext,
  );
}

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
  ssl(
    dir,
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
  issueCertificate(dir, 'server', '/CN=127.0.0.1', 'IP:127.0.0.1');
  return true;
}

// A throwaway certificate authority for tests that need real TLS: a CA, server certificates for
// loopback names and client certificates, made with the system's openssl (no npm crypto library
// can issue X.509). Files only; nothing is trusted system-wide.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface IssuedCertificate {
  certPath: string;
  keyPath: string;
  cert: Buffer;
  key: Buffer;
}

export interface TestCa {
  dir: string;
  certPath: string;
  cert: Buffer;
  /** A server certificate for 127.0.0.1 and localhost (plus any extra DNS names). */
  issueServer(name: string, dnsNames?: string[]): IssuedCertificate;
  /** A client certificate whose subject CN is `commonName`. */
  issueClient(commonName: string): IssuedCertificate;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates a CA in `dir` (made if missing). `name` labels the CA's subject. */
export function createTestCa(dir: string, name = 'hardware-orders test CA'): TestCa {
  fs.mkdirSync(dir, { recursive: true });
  const certPath = path.join(dir, 'ca.pem');
  const keyPath = path.join(dir, 'ca-key.pem');
  const newKey = (out: string) =>
    // genpkey writes PKCS#8: what Go (Temporal) and Node both read without surprises.
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out], dir);
  newKey(keyPath);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      keyPath,
      '-sha256',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-out',
      certPath,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );

  const issue = (file: string, subject: string, extensions: string): IssuedCertificate => {
    const key = path.join(dir, `${file}-key.pem`);
    const csr = path.join(dir, `${file}.csr`);
    const cert = path.join(dir, `${file}.pem`);
    const ext = path.join(dir, `${file}.ext`);
    fs.writeFileSync(ext, extensions);
    newKey(key);
    openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr], dir);
    openssl(['x509', '-req', '-in', csr, '-CA', certPath, '-CAkey', keyPath, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', ext, '-out', cert], dir);
    return { certPath: cert, keyPath: key, cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
  };

  return {
    dir,
    certPath,
    cert: fs.readFileSync(certPath),
    issueServer(file, dnsNames = []) {
      const names = ['DNS:localhost', 'IP:127.0.0.1', ...dnsNames.map((d) => `DNS:${d}`)].join(',');
      return issue(
        file,
        `/CN=${dnsNames[0] ?? 'localhost'}`,
        `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${names}\n`,
      );
    },
    issueClient(commonName) {
      return issue(
        `client-${commonName.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
        `/CN=${commonName}`,
        'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n',
      );
    },
  };
}

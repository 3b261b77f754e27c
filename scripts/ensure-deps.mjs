// Installs npm dependencies when they are missing or older than the lockfile, and builds the
// Go-built servers (Temporal dev server, FerretDB) when this machine has not built them yet.
// Plain Node, no dependencies: it runs before anything is installed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lock = path.join(root, 'package-lock.json');
const stamp = path.join(root, 'node_modules', '.package-lock.json');

const stale = !fs.existsSync(stamp) || fs.statSync(stamp).mtimeMs < fs.statSync(lock).mtimeMs;
if (stale) {
  console.error('ensure-deps: installing npm packages (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
execFileSync('bash', [path.join(root, 'scripts/build-tools.sh')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });

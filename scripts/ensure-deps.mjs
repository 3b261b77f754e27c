// Installs npm dependencies when they are missing or differ from the lockfile, and builds the
// Go-built servers (Temporal dev server, the real Temporal server, FerretDB) when this machine has
// not built them yet (not with --npm-only: the unit tests need no servers). Plain Node, no dependencies: it runs
// before anything is installed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modules = path.join(root, 'node_modules');
const readPackages = (file) => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')).packages;
  } catch {
    return null;
  }
};

// Compared by content, not by file times: a fresh checkout or worktree has a newer lockfile than
// an install that matches it. Optional packages for other platforms are never installed.
const wanted = readPackages(path.join(root, 'package-lock.json')) ?? {};
const installed = readPackages(path.join(modules, '.package-lock.json'));
const stale =
  !installed || Object.entries(wanted).some(([key, pkg]) => key !== '' && (installed[key] ? installed[key].version !== pkg.version : !pkg.optional));
if (stale) {
  // npm ci empties node_modules through a link, which would break the checkout that owns it.
  if (fs.lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink()) {
    console.error(
      `ensure-deps: node_modules (a link to ${fs.realpathSync(modules)}) does not match package-lock.json; refusing to reinstall through the link. Run: rm node_modules && npm ci`,
    );
    process.exit(1);
  }
  console.error('ensure-deps: installing npm packages (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
if (!process.argv.includes('--npm-only'))
  execFileSync('bash', [path.join(root, 'scripts/build-tools.sh')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });

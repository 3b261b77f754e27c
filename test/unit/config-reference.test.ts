// docs/configuration.md is the one configuration reference: every variable the code reads is in it,
// and it lists none that nothing reads.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../infra/config';

const root = path.resolve(import.meta.dirname, '../..');
const reference = fs.readFileSync(path.join(root, 'docs/configuration.md'), 'utf8');
const SKIP = new Set(['node_modules', 'data', '.git', 'test-results', 'results', 'vendor', 'dist']);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.(ts|mjs|js|sh|ya?ml)$/.test(e.name) ? [p] : [];
  });
}

/** Variables read outside the config module: from process.env in code, as ${NAME:-…} or ${NAME:?…} in shell and compose files. */
function variablesReadInCode(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles(root)) {
    const text = fs.readFileSync(file, 'utf8');
    const pattern = /\.(sh|ya?ml)$/.test(file) ? /\$\{([A-Z][A-Z0-9_]*):[-?]/g : /process\.env(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g;
    for (const m of text.matchAll(pattern)) found.set(m[1] ?? m[2], path.relative(root, file));
  }
  return found;
}

/** The variables the reference's tables describe: the first cell of each row. */
const documented = new Set([...reference.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]));

describe('docs/configuration.md', () => {
  it('documents every variable the config module reads', () => {
    expect(CONFIG_VARIABLES.length).toBeGreaterThan(40);
    expect(CONFIG_VARIABLES.filter((v) => !documented.has(v))).toEqual([]);
  });

  it('documents every variable read anywhere else', () => {
    const read = variablesReadInCode();
    expect(read.get('KEEP_TEST_DATA')).toBe('test/global-setup.ts'); // the scan itself works
    expect([...read].filter(([v]) => !documented.has(v)).map(([v, file]) => `${v} (${file})`)).toEqual([]);
  });

  it('lists no variable that nothing reads', () => {
    const read = new Set([...CONFIG_VARIABLES, ...variablesReadInCode().keys()]);
    expect([...documented].filter((v) => !read.has(v))).toEqual([]);
  });
});

// The production build: every module of the processes compiled to JavaScript under dist/, in the
// same layout as the sources (so paths a module finds from its own location, such as contracts/
// and AgentView's static files, still hold), plus the workflow bundle the worker loads instead of
// bundling workflows/ when it starts. `npm run build`; the Dockerfile runs node on dist/.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAgentView } from './agentview-bundle';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** What the processes run; everything else (tests, bench, chaos, dev scripts) stays out of the image. */
export const COMPILED_DIRS = ['domain', 'workflows', 'activities', 'api', 'adaptor', 'infra', 'worker', 'simulators'];
/** Files the compiled modules read from their own location. */
export const COPIED = ['contracts', 'api/ui/dist'];
/** Browser code: bundled for the browser by scripts/agentview-bundle.ts, not compiled for node. */
const BROWSER_ONLY = path.join(root, 'api/ui/client');

const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (p === BROWSER_ONLY) return [];
    return e.isDirectory() ? sources(p) : /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

// Each file is its own output; a relative import becomes the compiled file's path with its .js
// extension, which Node's ESM loader needs and the extensionless sources lack. So does a deep
// import into a package without an exports map (@temporalio/common/lib/time).
const importsToJs: esbuild.Plugin = {
  name: 'imports-to-js',
  setup(build) {
    build.onResolve({ filter: /^(@[^/.:][^/:]*\/)?[^/.@:][^/:]*\/./ }, (args) => {
      const name = packageOf(args.path);
      const require = createRequire(args.importer);
      const dir = require.resolve
        .paths(name)
        ?.map((d) => path.join(d, name))
        .find((d) => fs.existsSync(path.join(d, 'package.json')));
      if (!dir || (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { exports?: unknown }).exports) return undefined;
      return { path: `${name}/${path.relative(dir, require.resolve(args.path)).split(path.sep).join('/')}`, external: true };
    });
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const target = path.resolve(args.resolveDir, args.path);
      const file = [target, `${target}.ts`, `${target}.tsx`, path.join(target, 'index.ts')].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
      if (!file) return { errors: [{ text: `cannot resolve ${args.path} from ${args.importer}` }] };
      const top = path.relative(root, file).split(path.sep)[0];
      if (/\.tsx?$/.test(file) && !COMPILED_DIRS.includes(top))
        return { errors: [{ text: `${args.importer} imports ${args.path}, outside the compiled folders` }] };
      let out = path.relative(args.resolveDir, file).replace(/\.tsx?$/, '.js');
      if (!out.startsWith('.')) out = `./${out}`;
      return { path: out, external: true };
    });
  },
};

export async function build(outDir = path.join(root, 'dist')): Promise<void> {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  fs.rmSync(outDir, { recursive: true, force: true });
  await buildAgentView();
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: COMPILED_DIRS.flatMap((d) => sources(path.join(root, d))),
    outdir: outDir,
    outbase: root,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    jsx: 'automatic',
    jsxImportSource: 'hono/jsx',
    plugins: [importsToJs],
    metafile: true,
    logLevel: 'warning',
  });
  // The image installs dependencies only (npm ci --omit=dev): a dev package imported here would
  // only fail there, at run time.
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const outside = new Set(
    Object.values(result.metafile.outputs)
      .flatMap((o) => o.imports.filter((i) => i.external && !i.path.startsWith('.') && !builtins.has(i.path)).map((i) => packageOf(i.path)))
      .filter((p) => !(p in pkg.dependencies)),
  );
  if (outside.size) throw new Error(`the compiled code imports packages that are not dependencies: ${[...outside].join(', ')}`);
  for (const dir of COPIED) fs.cpSync(path.join(root, dir), path.join(outDir, dir), { recursive: true });
  // ES modules wherever dist/ is placed, not only under this repository's package.json.
  fs.writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify({ type: 'module', private: true })}\n`);
  // Imported here, not at the top: the layout above is read by unit tests, which load nothing native.
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { WORKFLOW_BUNDLE_FILE, workflowsPath } = await import('../worker/worker');
  const { failureConverterPath } = await import('../infra/payload-codec');
  const { code } = await bundleWorkflowCode({ workflowsPath, failureConverterPath, logger: quietLogger });
  fs.writeFileSync(path.join(outDir, WORKFLOW_BUNDLE_FILE), code);
}

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m), log: noop };

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const outDir = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  await build(outDir);
  console.log(`build: ${path.relative(process.cwd(), outDir ?? path.join(root, 'dist')) || '.'} ready`);
}

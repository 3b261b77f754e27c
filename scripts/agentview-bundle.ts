// Builds AgentView's browser bundle (api/ui/client → api/ui/dist, git-ignored) with esbuild.
// `npm start`, the test setup and the production build (npm run build) call it, so a fresh clone needs no extra step.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UI_DIST } from '../api/ui/dist';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The browser gets its own code and the pure domain: nothing else may end up in the bundle. */
const BROWSER_SOURCES = ['api/ui/client/', 'domain/'];

export async function buildAgentView(): Promise<void> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [
      { in: 'api/ui/client/main.ts', out: 'agentview' },
      { in: 'api/ui/client/agentview.css', out: 'agentview' },
    ],
    outdir: UI_DIST,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  const foreign = Object.keys(result.metafile.inputs).filter((f) => !BROWSER_SOURCES.some((dir) => f.startsWith(dir)));
  // Type-only imports of server code vanish in the build; a value import would ship it to the browser.
  if (foreign.length) throw new Error(`AgentView's bundle would include server code: ${foreign.join(', ')} (import types only)`);
}

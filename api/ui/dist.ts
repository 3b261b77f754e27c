// Where AgentView's browser bundle is built to (git-ignored) and served from at /ui/.
import { fileURLToPath } from 'node:url';

export const UI_DIST = fileURLToPath(new URL('./dist', import.meta.url));

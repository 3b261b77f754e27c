// `npm run build:ui`: AgentView's browser bundle alone, for working on the UI (npm start, the tests and npm run build make it themselves).
import { buildAgentView } from './agentview-bundle';

await buildAgentView();

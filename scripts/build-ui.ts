// `npm run build:ui`: AgentView's browser bundle alone (the Docker image builds it this way).
import { buildAgentView } from './agentview-bundle';

await buildAgentView();

# One image for every hardware-orders process; the compose file picks the command.
# Untested on a real engine here (no Docker engine on the development machines).

# AgentView's browser bundle, built with esbuild (a dev dependency the runtime image leaves out).
FROM node:20-bookworm-slim AS agentview
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/build-ui.ts ./scripts/
COPY api/ui ./api/ui
COPY domain ./domain
RUN npm run build:ui

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY --from=agentview /app/api/ui/dist ./api/ui/dist
COPY adaptor ./adaptor
COPY infra ./infra
COPY worker ./worker
COPY simulators ./simulators
COPY contracts ./contracts
USER node
# Overridden per service in docker-compose.yml.
CMD ["node", "--import", "tsx", "api/main.ts"]

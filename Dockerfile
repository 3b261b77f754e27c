# One image for every hardware-orders process; the compose file picks the command.
# Untested on a real engine here (no Docker engine on the development machines);
# test/integration/production-build.test.ts runs the same build's output with node.

# Build: the processes compiled to JavaScript in dist/, with the prebuilt workflow bundle.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.ts scripts/agentview-bundle.ts ./scripts/
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY adaptor ./adaptor
COPY infra ./infra
COPY worker ./worker
COPY simulators ./simulators
COPY contracts ./contracts
RUN npm run build

# Run: production dependencies and dist/ only; no TypeScript at run time.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
USER node
# Overridden per service in docker-compose.yml.
CMD ["node", "dist/api/main.js"]

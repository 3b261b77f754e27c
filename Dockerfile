# One image for every hardware-orders process; the compose file picks the command.
# Untested on a real engine here (no Docker engine on the development machines).
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
COPY adaptor ./adaptor
COPY infra ./infra
COPY worker ./worker
COPY simulators ./simulators
COPY contracts ./contracts
USER node
# Overridden per service in docker-compose.yml.
CMD ["node", "--import", "tsx", "api/main.ts"]

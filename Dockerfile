# syntax=docker/dockerfile:1
FROM node:26-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY third_party ./third_party
COPY src ./src
COPY scripts ./scripts
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:26-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
COPY --from=build /app/third_party ./third_party
COPY --from=build /app/src/redis/commands ./src/redis/commands
COPY data ./data
COPY scripts/serve.sh ./scripts/serve.sh
USER node
EXPOSE 50051 9464
CMD ["sh", "scripts/serve.sh"]

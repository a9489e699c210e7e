# nats-insights, the live service. Build: docker build -t nats-insights .
FROM node:24.22.3-alpine AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY scripts ./scripts
COPY test ./test
COPY schemas ./schemas
RUN npm run build && npm prune --omit=dev

FROM node:24.22.3-alpine
WORKDIR /app
ENV NODE_ENV=production \
    NATS_URL=nats://nats:4222 \
    NATS_CREDS=/run/secrets/insights-sys-creds \
    INSIGHTS_METRICS_PORT=9464 \
    INSIGHTS_METRICS_HOST=0.0.0.0
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/schemas ./schemas
USER node
EXPOSE 9464
ENTRYPOINT ["node", "--max-semi-space-size=16", "dist/src/main.js"]
CMD ["serve"]

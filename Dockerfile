# syntax=docker/dockerfile:1
# Stage 1: Node builds the browser bundles (and copies the replay player) into collector/.
FROM node:20-slim AS bundles
WORKDIR /src
COPY sdk_js/package.json sdk_js/package-lock.json sdk_js/
RUN cd sdk_js && npm ci --no-audit --no-fund
COPY sdk_js/ sdk_js/
RUN mkdir -p collector/static collector/ui/static/vendor && cd sdk_js && npm run build

# Stage 2: a slim Python image runs the collector as a non-root user.
FROM python:3.11-slim
# Optional extras, e.g. --build-arg EXTRAS="[clickhouse]" for a ClickHouse store.
ARG EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 TRAILMARK_DB=/data/trailmark.db
WORKDIR /app
COPY pyproject.toml README.md ./
COPY collector/ collector/
COPY --from=bundles /src/collector/static/ collector/static/
COPY --from=bundles /src/collector/ui/static/vendor/ collector/ui/static/vendor/
RUN pip install --no-cache-dir ".${EXTRAS}" \
    && useradd --system --uid 10001 --home-dir /data trailmark \
    && mkdir -p /data && chown trailmark /data
USER trailmark
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["trailmark", "serve", "--host", "0.0.0.0", "--port", "8000"]

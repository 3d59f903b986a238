# Stand-ins for the third-party images docker-compose.yml names, which cannot be pulled here:
# built from Debian's packages on the stand-in base, each tagged by the tests with the name
# the Compose file uses and shaped like the original (command, user, paths, and the `wget`
# its healthcheck calls). Tests only: the product keeps the real images.
ARG BASE
FROM ${BASE} AS packages
RUN apt-get update \
    && apt-get install -y --no-install-recommends docker-registry prometheus nginx-light wget \
    && rm -rf /var/lib/apt/lists/*

# registry:2 — `registry serve CONFIG`, storage in /var/lib/registry, runs as root.
FROM packages AS registry
RUN ln -s /usr/bin/docker-registry /usr/local/bin/registry && mkdir -p /var/lib/registry
EXPOSE 5000
ENTRYPOINT ["registry"]
CMD ["serve", "/etc/docker/registry/config.yml"]

# prom/prometheus — entrypoint the binary, data in /prometheus owned by nobody, runs as nobody.
FROM packages AS prometheus
RUN mkdir -p /prometheus && chown nobody:nogroup /prometheus
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]

# nginx — serves a page on :80 in the foreground.
FROM packages AS nginx
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]

# postgres:16-alpine — Debian's PostgreSQL (15 in bookworm: the store supports both), set up
# by postgres-entrypoint.sh from POSTGRES_USER/POSTGRES_DB/POSTGRES_PASSWORD, data in
# /var/lib/postgresql/data, `pg_isready` and `psql` on PATH, stopped by SIGINT (fast shutdown).
FROM packages AS postgres
RUN mkdir -p /etc/postgresql-common \
    && echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       -o Dpkg::Options::=--force-confold postgresql \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s /usr/lib/postgresql/*/bin/* /usr/local/bin/
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["/bin/sh", "/usr/local/bin/docker-entrypoint.sh"]
CMD ["postgres"]

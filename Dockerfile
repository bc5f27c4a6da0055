# Strongroom's container image (docs/deploy.md, "Container image"): the package in a
# virtual environment, an unprivileged user, the home at /srv/strongroom.
#   docker build -t strongroom .
#   docker run -v /etc/strongroom/home:/srv/strongroom --env-file /etc/strongroom/env \
#     -p 8443:8443 strongroom serve --host 0.0.0.0 --no-worker --workers 2
FROM python:3.11-slim-bookworm AS build
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/strongroom \
 && /opt/strongroom/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/strongroom/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /srv/strongroom --shell /usr/sbin/nologin strongroom \
 && install -d -m 0700 -o strongroom -g strongroom /srv/strongroom
COPY --from=build /opt/strongroom /opt/strongroom
ENV PATH=/opt/strongroom/bin:$PATH \
    STRONGROOM_HOME=/srv/strongroom \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER strongroom
WORKDIR /srv/strongroom
EXPOSE 8443
# SIGTERM: open requests get 30 s; give the container runtime a longer stop timeout.
STOPSIGNAL SIGTERM
ENTRYPOINT ["strongroom"]
CMD ["serve", "--host", "0.0.0.0", "--no-worker"]

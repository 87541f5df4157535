# Container image of mailtls_exporter: ghcr.io/mailtls/mailtls_exporter:<version>.
#   podman build --format docker -t ghcr.io/mailtls/mailtls_exporter:0.1.0 .   (or docker build)
#   podman run -p 9925:9925 -v mailtls-state:/var/lib/mailtls_exporter \
#     -v ./config.yaml:/etc/mailtls_exporter/config.yaml:ro ghcr.io/mailtls/mailtls_exporter:0.1.0
# See docs/packaging.md. The version below must match project(VERSION) in CMakeLists.txt and
# the Helm chart's appVersion.
ARG VERSION=0.1.0

FROM debian:12 AS build
# First, so every cached layer of this stage carries it and a cleanup can find them:
#   podman image prune -f --filter label=org.opencontainers.image.title=mailtls_exporter-build
LABEL org.opencontainers.image.title="mailtls_exporter-build"
# The -dev packages of setup.sh, without gtest/gmock: the image is built without tests.
# git gives the build its revision (.git is part of the build context on purpose).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config git ca-certificates \
      prometheus-cpp-dev libcivetweb-dev libunbound-dev libevent-dev nettle-dev libssl-dev \
      libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev \
      libcurl4-openssl-dev zlib1g-dev libcpp-httplib-dev libboost-dev libopendkim-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DMAILTLS_BUILD_TESTS=OFF \
 && cmake --build /build --target mailtls_exporter -j"$(nproc)" \
 && mkdir /out \
 && strip -o /out/mailtls_exporter /build/exporter/mailtls_exporter \
 && /out/mailtls_exporter --version \
 && packaging/runtime-packages.sh /out/mailtls_exporter > /out/runtime-packages.txt \
 && cat /out/runtime-packages.txt

FROM debian:12-slim
LABEL org.opencontainers.image.title="mailtls_exporter" \
      org.opencontainers.image.description="Prometheus exporter for the transport security of mail domains: DANE (TLSA, DNSSEC), MTA-STS, TLS-RPT, STARTTLS" \
      org.opencontainers.image.url="https://github.com/mailtls/mailtls_exporter" \
      org.opencontainers.image.source="https://github.com/mailtls/mailtls_exporter" \
      org.opencontainers.image.documentation="https://github.com/mailtls/mailtls_exporter/blob/main/docs/packaging.md" \
      org.opencontainers.image.vendor="mailtls" \
      org.opencontainers.image.base.name="docker.io/library/debian:12-slim"
ARG VERSION
ARG REVISION=""
LABEL org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# Exactly the packages of the shared libraries the binary loads (computed in the build stage
# with ldd and dpkg -S), the root trust anchor (/usr/share/dns/root.key), the CA roots
# (/etc/ssl/certs) and curl for the HEALTHCHECK.
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(cat /tmp/runtime-packages.txt) ca-certificates dns-root-data curl \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --system --gid 65532 mailtls \
 && useradd --system --uid 65532 --gid 65532 --no-create-home \
      --home-dir /var/lib/mailtls_exporter --shell /usr/sbin/nologin mailtls \
 && install -d -o 65532 -g 65532 -m 0750 /var/lib/mailtls_exporter

COPY --from=build /out/mailtls_exporter /usr/bin/mailtls_exporter
COPY examples/config.yaml /etc/mailtls_exporter/config.yaml

# Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 65532:65532
EXPOSE 9925
VOLUME /var/lib/mailtls_exporter
# Plain HTTP on the default port; with --web.config.file (TLS or basic auth) or another
# --web.listen-address, override it (docker run --health-cmd ...) or rely on the orchestrator.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9925/-/healthy"]
ENTRYPOINT ["mailtls_exporter"]
CMD ["--config.file=/etc/mailtls_exporter/config.yaml", "--storage.path=/var/lib/mailtls_exporter"]

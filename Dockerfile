# syntax=docker/dockerfile:1
#
# vpcep-warden as a long-running container: `serve` answers webhooks on
# :8000 and runs the scheduled jobs every 5 minutes.
#
#   docker build -t vpcep-warden .
#   docker run --rm -p 8000:8000 -e WARDEN_REGION=cn-north-4 \
#     -e HUAWEICLOUD_SDK_PROJECT_ID=... -e HUAWEICLOUD_SDK_AK=... -e HUAWEICLOUD_SDK_SK=... \
#     -e WARDEN_ALLOWED_DOMAINS=... -e WARDEN_WEBHOOK_SECRET=... \
#     -v vpcep-warden-state:/var/lib/vpcep-warden vpcep-warden
#
# What the warden remembers (what each alert sink was sent and when, the
# connections announced, first sightings of revocable ones) is kept in
# /var/lib/vpcep-warden (WARDEN_STATE=file:///var/lib/vpcep-warden): mount a
# volume there, or a new container sends every alert again. A named volume
# takes the directory's owner (65532, distroless' nonroot) from the image; a
# host directory must be writable by uid 65532. Replicas on several hosts
# share an s3:// bucket instead (WARDEN_STATE=s3://bucket/prefix).
#
# The binary is glibc linked statically (as deploy/functiongraph/package.sh
# builds it), so the final image needs no libc: distroless/static holds only
# CA certificates, /etc/passwd and tzdata. Built without the `emulator`
# feature (the `demo` command does not ship), with `serve`.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eu; \
    target="$(rustc -vV | sed -n 's/^host: //p')"; \
    RUSTFLAGS='-C target-feature=+crt-static' \
        cargo build --release --locked --no-default-features --features serve --target "$target" --bin vpcep-warden; \
    cp "target/$target/release/vpcep-warden" /vpcep-warden; \
    mkdir -p /state; \
    ldd /vpcep-warden 2>&1 | grep -Eq 'not a dynamic executable|statically linked'; \
    env -i /vpcep-warden --help >/dev/null

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /vpcep-warden /vpcep-warden
COPY --from=build --chown=65532:65532 /state /var/lib/vpcep-warden
ENV WARDEN_STATE=file:///var/lib/vpcep-warden
VOLUME ["/var/lib/vpcep-warden"]
# Numeric (distroless's nonroot user), so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8000
ENTRYPOINT ["/vpcep-warden"]
CMD ["serve", "--listen", "0.0.0.0:8000", "--every", "5m"]

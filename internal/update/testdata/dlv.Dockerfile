# dlv: debugger for the Go programming language
#
# Builds alone:  docker buildx build --platform linux/amd64,linux/arm64 dockerfiles/dlv
# crossbin passes the Go platform variables (GOOS, GOARCH, GOARM, ...) from
# its platform table as build arguments; alone they follow TARGETPLATFORM.
# `go install module/pkg@version` lets the go tool stamp the real version.

ARG GO_IMAGE=golang:1.26-alpine
ARG MODULE=github.com/go-delve/delve
# renovate: datasource=go depName=github.com/go-delve/delve
ARG VERSION=v9.8.7
ARG PACKAGE=${MODULE}/cmd/dlv

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG MODULE VERSION PACKAGE
ARG GOPROXY GOSUMDB GOFLAGS GONOSUMDB GOPRIVATE GONOPROXY GOINSECURE
# Fetch the module and every package it needs once, before anything
# target-specific, so all platforms share it.
RUN --mount=type=cache,target=/go/pkg/mod,id=crossbin-gomod \
    go mod download "${MODULE}@${VERSION}" && \
    cd "$(go list -m -f '{{.Dir}}' "${MODULE}@${VERSION}")" && \
    GOWORK=off go list -deps "${PACKAGE}" > /dev/null
ARG TARGETOS TARGETARCH TARGETVARIANT
ARG GOOS=${TARGETOS} GOARCH=${TARGETARCH} GOARM=${TARGETVARIANT#v}
ARG GOAMD64 GOARM64 GO386 GOMIPS GOMIPS64 GOPPC64 GORISCV64
# Go build tags for this platform, from program.yaml (linux/riscv64:
# exp.linuxriscv64); alone, pass --build-arg TAGS=... yourself.
ARG TAGS
RUN --mount=type=cache,target=/go/pkg/mod,id=crossbin-gomod \
    --mount=type=cache,target=/root/.cache/go-build,id=crossbin-gobuild \
    CGO_ENABLED=0 go install -trimpath -tags="${TAGS}" -ldflags="-s -w" "${PACKAGE}@${VERSION}" && \
    mkdir -p /out && find /go/bin -type f -name dlv -exec mv {} /out/ ";"

FROM scratch
ARG VERSION CREATED REVISION=${VERSION}
LABEL org.opencontainers.image.title="dlv" \
      org.opencontainers.image.description="debugger for the Go programming language" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/go-delve/delve" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=build /out/dlv /bin/dlv
ENTRYPOINT ["/bin/dlv"]

# helm: the package manager for Kubernetes
#
# Builds alone:  docker buildx build --platform linux/amd64,linux/arm64 dockerfiles/helm
# crossbin passes the Go platform variables (GOOS, GOARCH, GOARM, ...) from
# its platform table as build arguments; alone they follow TARGETPLATFORM.
# helm's go.mod has replace directives, so `go install module@version`
# refuses it: this builds from the module's source, stamping the version
# with -ldflags -X.

ARG GO_IMAGE=golang:1.26-alpine
ARG MODULE=helm.sh/helm/v3
# renovate: datasource=go depName=helm.sh/helm/v3
ARG VERSION=v9.8.7
ARG PACKAGE=${MODULE}/cmd/helm

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS fetch
ARG MODULE VERSION
ARG GOPROXY GOSUMDB GOFLAGS GONOSUMDB GOPRIVATE GONOPROXY GOINSECURE
RUN --mount=type=cache,target=/go/pkg/mod,id=crossbin-gomod \
    go mod download "${MODULE}@${VERSION}" && \
    cp -R "$(go list -m -f '{{.Dir}}' "${MODULE}@${VERSION}")" /src

# The module's source tree. crossbin replaces this stage with the source it
# fetched, verified and, where patches/ says so, patched
# (--build-context source=DIR).
FROM scratch AS source
COPY --from=fetch /src /

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG GOPROXY GOSUMDB GOFLAGS GONOSUMDB GOPRIVATE GONOPROXY GOINSECURE
ARG PACKAGE
WORKDIR /src
COPY --from=source / ./
# Fetch every package the build needs once, before anything
# target-specific, so all platforms share it.
RUN --mount=type=cache,target=/go/pkg/mod,id=crossbin-gomod \
    GOWORK=off go list -deps "${PACKAGE}" > /dev/null
ARG TARGETOS TARGETARCH TARGETVARIANT
ARG GOOS=${TARGETOS} GOARCH=${TARGETARCH} GOARM=${TARGETVARIANT#v}
ARG GOAMD64 GOARM64 GO386 GOMIPS GOMIPS64 GOPPC64 GORISCV64
ARG VERSION
RUN --mount=type=cache,target=/go/pkg/mod,id=crossbin-gomod \
    --mount=type=cache,target=/root/.cache/go-build,id=crossbin-gobuild \
    CGO_ENABLED=0 GOWORK=off go build -trimpath -o /out/helm \
      -ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${VERSION} -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
      "${PACKAGE}"

FROM scratch
ARG VERSION CREATED REVISION=${VERSION}
LABEL org.opencontainers.image.title="helm" \
      org.opencontainers.image.description="the package manager for Kubernetes" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/helm/helm" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=build /out/helm /bin/helm
ENTRYPOINT ["/bin/helm"]

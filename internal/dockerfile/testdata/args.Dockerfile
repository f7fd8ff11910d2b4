# An example with every shape the parser must read.
ARG GO_IMAGE=golang:1.26-alpine

ARG MODULE=helm.sh/helm/v3
# renovate: datasource=go depName=helm.sh/helm/v3
ARG VERSION=v3.6.2
arg QUOTED="a b" SINGLE='c d' \
    BARE \
    EMPTY=
ARG   SPACED=x	TABBED=y

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS Fetch
ARG VERSION
RUN echo hello \
    # a comment inside a continuation
    && echo done
FROM scratch
ARG VERSION

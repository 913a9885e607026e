#!/usr/bin/env bash
# Build the pinned Go tools of the embedded local cluster (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok, helm, helm-diff, the OCI registry,
# age) from the modules under tools/, once per pinned version.
#
# Binaries are cached under $IBH_CACHE/tools/<module>-<key>/ where <key> is a hash
# of the module's go.mod, go.sum and this script, so a changed pin rebuilds only
# that module and an unchanged one is never rebuilt. $IBH_BIN gets symlinks to the
# cached binaries; the helm-diff plugin is installed into $IBH_CACHE/helm-plugins.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IBH_CACHE="${IBH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imagebuilding-hubs}"
IBH_BIN="${IBH_BIN:-$ROOT/.local/bin}"
HELM_PLUGINS="${HELM_PLUGINS:-$IBH_CACHE/helm-plugins}"
export GOFLAGS="-buildvcs=false -trimpath"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0

KUBE_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' "$ROOT/tools/kubernetes/go.mod")"
HELM_VERSION="$(awk '$1 == "require" && $2 == "helm.sh/helm/v3" {print $3}' "$ROOT/tools/helm/go.mod")"
HELM_DIFF_VERSION="$(awk '$1 == "require" && $2 == "github.com/databus23/helm-diff/v3" {print $3}' "$ROOT/tools/helm-diff/go.mod")"

log() { printf '[build-tools] %s\n' "$*"; }

cache_key() {
  cat "$ROOT/tools/$1/go.mod" "$ROOT/tools/$1/go.sum" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12
}

kube_ldflags() {
  local v="${KUBE_VERSION#v}" major minor
  major="${v%%.*}"
  minor="${v#*.}"; minor="${minor%%.*}"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf -- '-X %s.gitVersion=%s -X %s.gitMajor=%s -X %s.gitMinor=%s ' "$pkg" "$KUBE_VERSION" "$pkg" "$major" "$pkg" "$minor"
    printf -- '-X %s.gitTreeState=clean -X %s.buildDate=1970-01-01T00:00:00Z ' "$pkg" "$pkg"
  done
}

# go build in the background, printing progress (packages compiled so far) every 20 s.
go_build() {
  local module="$1" out="$2" ldflags="$3"; shift 3
  local buildlog="$out/../build.log" start=$SECONDS pid
  (cd "$ROOT/tools/$module" && go build -v -ldflags "-s -w $ldflags" -o "$out/" "$@") >"$buildlog" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 20
    kill -0 "$pid" 2>/dev/null && log "  $module: $(wc -l <"$buildlog") packages compiled, $((SECONDS - start)) s"
  done
  if ! wait "$pid"; then
    log "building $module failed; last lines of $buildlog:"
    tail -n 30 "$buildlog" >&2
    return 1
  fi
  log "  $module built in $((SECONDS - start)) s"
}

# build_module <module dir> <ldflags> <package>...: build unless cached, then link.
build_module() {
  local module="$1" ldflags="$2"; shift 2
  local dir="$IBH_CACHE/tools/$module-$(cache_key "$module")"
  if [[ -f "$dir/.complete" ]]; then
    log "$module: cached ($dir)"
  else
    log "$module: building $* (a cold build takes minutes; progress every 20 s)"
    rm -rf "$dir"
    mkdir -p "$dir/bin"
    go_build "$module" "$dir/bin" "$ldflags" "$@"
    touch "$dir/.complete"
  fi
  local bin
  for bin in "$dir"/bin/*; do
    ln -sfn "$bin" "$IBH_BIN/$(basename "$bin")"
  done
}

install_helm_diff() {
  local plugin="$HELM_PLUGINS/diff"
  mkdir -p "$plugin/bin"
  ln -sfn "$IBH_BIN/helm-diff" "$plugin/bin/diff"
  # Plugin manifest in helm's plugin.yaml format; version is what `helm plugin list` shows.
  cat >"$plugin/plugin.yaml" <<EOF
name: diff
version: ${HELM_DIFF_VERSION#v}
usage: Preview helm upgrade changes as a diff
description: Preview helm upgrade changes as a diff (built by imagebuilding-hubs from the pinned module)
useTunnel: true
command: \$HELM_PLUGIN_DIR/bin/diff
EOF
}

main() {
  command -v go >/dev/null || { log "go is not on PATH; install Go 1.26 first"; exit 1; }
  mkdir -p "$IBH_BIN" "$IBH_CACHE/tools"
  local t0=$SECONDS
  build_module etcd "" ./cmd/etcd
  build_module kubernetes "$(kube_ldflags)" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler
  build_module kwok "" sigs.k8s.io/kwok/cmd/kwok
  build_module helm "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    helm.sh/helm/v3/cmd/helm
  build_module helm-diff "-X github.com/databus23/helm-diff/v3/cmd.Version=${HELM_DIFF_VERSION#v}" \
    github.com/databus23/helm-diff/v3
  build_module registry "" github.com/distribution/distribution/v3/cmd/registry
  build_module age "" filippo.io/age/cmd/age filippo.io/age/cmd/age-keygen
  install_helm_diff
  log "tools ready in $IBH_BIN ($((SECONDS - t0)) s)"
}

main "$@"

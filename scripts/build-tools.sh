#!/usr/bin/env bash
# Build the pinned Go tools of the embedded local cluster (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok, helm, helm-diff, the OCI registry,
# age), kind (molecule's kind scenario), crane (the test bed's build node) and actionlint (make lint) from the modules under tools/, once per
# pinned version.
#
#   scripts/build-tools.sh               build what is not cached, link it into $IBH_BIN
#   scripts/build-tools.sh --print-keys  print "<module> <key> <cache dir>" per module, build nothing
#   scripts/build-tools.sh <module>...   the same for these modules of tools/ only (make lint: actionlint)
#
# Binaries are cached under $IBH_CACHE/tools/<module>-<key>/ where <key> is a hash of
# that module's own build inputs: the files of tools/<module>/ (go.mod, go.sum, tools.go,
# our own main packages) and its recipe (RECIPE_VERSION, the build environment, its
# ldflags and its package list). A changed pin or recipe rebuilds only that module;
# edits elsewhere in this script rebuild nothing. $IBH_BIN gets symlinks to the cached
# binaries; the helm-diff plugin is installed into $IBH_CACHE/helm-plugins.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IBH_CACHE="${IBH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imagebuilding-hubs}"
IBH_BIN="${IBH_BIN:-$ROOT/.local/bin}"
HELM_PLUGINS="${HELM_PLUGINS:-$IBH_CACHE/helm-plugins}"
export GOFLAGS="-buildvcs=false -trimpath"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0
# Part of every module's cache key: bump it when go_build changes how binaries are made
# (its flags or environment), so that every module is rebuilt once.
RECIPE_VERSION=2
# ldflags of every module, before its own.
BASE_LDFLAGS="-s -w"

KUBE_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' "$ROOT/tools/kubernetes/go.mod")"
HELM_VERSION="$(awk '$1 == "require" && $2 == "helm.sh/helm/v3" {print $3}' "$ROOT/tools/helm/go.mod")"
HELM_DIFF_VERSION="$(awk '$1 == "require" && $2 == "github.com/databus23/helm-diff/v3" {print $3}' "$ROOT/tools/helm-diff/go.mod")"
ACTIONLINT_VERSION="$(awk '$1 == "require" && $2 == "github.com/rhysd/actionlint" {print $3}' "$ROOT/tools/actionlint/go.mod")"
PRINT_KEYS=false
# The modules named on the command line (all when none is named).
ONLY=()

log() { printf '[build-tools] %s\n' "$*"; }

# module_version <module dir> <module path>: the version of a dependency in tools/<dir>/go.mod
# (a `require` line or a line of a `require (...)` block), or a failure.
module_version() {
  local version
  version="$(awk -v path="$2" '
    $1 == "require" && $2 == path { print $3; exit }
    $1 == path && $2 ~ /^v/ { print $2; exit }' "$ROOT/tools/$1/go.mod")"
  if [[ -z "$version" ]]; then
    log "tools/$1/go.mod does not require $2" >&2
    return 1
  fi
  printf '%s\n' "$version"
}

# recipe <ldflags> <package>...: everything besides the module's files that goes into its
# binaries.
recipe() {
  local ldflags="$1"; shift
  printf 'recipe %s\nGOFLAGS=%s CGO_ENABLED=%s\nldflags=%s %s\npackages=%s\n' \
    "$RECIPE_VERSION" "$GOFLAGS" "$CGO_ENABLED" "$BASE_LDFLAGS" "$ldflags" "$*"
}

# cache_key <module dir> <ldflags> <package>...: hash of the module's files and its recipe.
cache_key() {
  local module="$1"; shift
  {
    recipe "$@"
    (cd "$ROOT/tools/$module" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-12
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

# helm's Makefile sets the Kubernetes version helm assumes when no cluster is asked
# (helm template, helm lint: the charts' kubeVersion checks and the lint deprecation rules):
# 1.<X> from the k8s.io/client-go v0.<X>.<y> that helm is built with; unset, it is v1.20.0.
helm_ldflags() {
  local client_go major minor pkg
  client_go="$(module_version helm k8s.io/client-go)"
  client_go="${client_go#v}"
  major="$((${client_go%%.*} + 1))"
  minor="${client_go#*.}"; minor="${minor%%.*}"
  printf -- '-X helm.sh/helm/v3/internal/version.version=%s -X helm.sh/helm/v3/internal/version.gitTreeState=clean' "$HELM_VERSION"
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    printf -- ' -X %s.k8sVersionMajor=%s -X %s.k8sVersionMinor=%s' "$pkg" "$major" "$pkg" "$minor"
  done
}

# go build in the background, printing progress (packages compiled so far) every 20 s.
go_build() {
  local module="$1" out="$2" ldflags="$3"; shift 3
  local buildlog="$out/../build.log" start=$SECONDS pid next
  (cd "$ROOT/tools/$module" && go build -v -ldflags "$BASE_LDFLAGS $ldflags" -o "$out/" "$@") >"$buildlog" 2>&1 &
  pid=$!
  next=$((start + 20))
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((SECONDS >= next)) && kill -0 "$pid" 2>/dev/null; then
      log "  $module: $(wc -l <"$buildlog") packages compiled, $((SECONDS - start)) s"
      next=$((next + 20))
    fi
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
  if ((${#ONLY[@]})) && [[ " ${ONLY[*]} " != *" $module "* ]]; then
    return 0
  fi
  local dir
  dir="$IBH_CACHE/tools/$module-$(cache_key "$module" "$ldflags" "$@")"
  if [[ "$PRINT_KEYS" == true ]]; then
    printf '%s %s %s\n' "$module" "${dir##*-}" "$dir"
    return 0
  fi
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
  case "${1:-}" in
    "") ;;
    --print-keys) PRINT_KEYS=true ;;
    -*) sed -n '7,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
    *)
      local name
      for name in "$@"; do
        if [[ ! -f "$ROOT/tools/$name/go.mod" ]]; then
          log "no Go module tools/$name (tools/<module>/go.mod)" >&2
          sed -n '7,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
          exit 2
        fi
      done
      ONLY=("$@") ;;
  esac
  if [[ "$PRINT_KEYS" != true ]]; then
    command -v go >/dev/null || { log "go is not on PATH; install Go 1.26 first"; exit 1; }
    mkdir -p "$IBH_BIN" "$IBH_CACHE/tools"
  fi
  local t0=$SECONDS
  local helm_flags
  helm_flags="$(helm_ldflags)"
  build_module etcd "" ./cmd/etcd
  build_module kubernetes "$(kube_ldflags)" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler
  build_module kwok "" sigs.k8s.io/kwok/cmd/kwok
  build_module helm "$helm_flags" helm.sh/helm/v3/cmd/helm
  build_module helm-diff "-X github.com/databus23/helm-diff/v3/cmd.Version=${HELM_DIFF_VERSION#v}" \
    github.com/databus23/helm-diff/v3
  build_module registry "" github.com/distribution/distribution/v3/cmd/registry
  build_module age "" filippo.io/age/cmd/age filippo.io/age/cmd/age-keygen
  # kind's Makefile adds gitCommit and gitCommitCount, which kind prints only for
  # pre-releases (and the module has no git commit): a release reports its own version.
  build_module kind "" sigs.k8s.io/kind
  build_module crane "" github.com/google/go-containerregistry/cmd/crane
  # actionlint's release builds set its version by ldflags; unset, it reports "unknown" (the
  # module is built as a dependency, so the build info has no main-module version).
  build_module actionlint "-X github.com/rhysd/actionlint.version=${ACTIONLINT_VERSION#v}" \
    github.com/rhysd/actionlint/cmd/actionlint
  if [[ "$PRINT_KEYS" == true ]]; then
    return 0
  fi
  if ! ((${#ONLY[@]})) || [[ " ${ONLY[*]} " == *" helm-diff "* ]]; then
    install_helm_diff
  fi
  log "tools ready in $IBH_BIN ($((SECONDS - t0)) s)"
}

main "$@"

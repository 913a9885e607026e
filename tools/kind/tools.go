//go:build tools

// Package tools pins kind (Kubernetes in Docker), built by scripts/build-tools.sh for the
// molecule kind scenario.
package tools

import _ "sigs.k8s.io/kind"

//go:build tools

// Package tools pins the kwok commands built by scripts/build-tools.sh.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)

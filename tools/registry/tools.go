//go:build tools

// Package tools pins the registry commands built by scripts/build-tools.sh.
package tools

import (
	_ "github.com/distribution/distribution/v3/cmd/registry"
)

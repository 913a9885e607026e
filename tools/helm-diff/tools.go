//go:build tools

// Package tools pins the helm-diff plugin, built by scripts/build-tools.sh.
package tools

import _ "github.com/databus23/helm-diff/v3"

//go:build tools

// Package tools pins actionlint, built by scripts/build-tools.sh: make lint checks the
// GitHub Actions workflow examples under docs/examples/ with it.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"

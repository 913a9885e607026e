//go:build tools

// Package tools pins age and age-keygen, built by scripts/build-tools.sh.
package tools

import (
	_ "filippo.io/age/cmd/age"
	_ "filippo.io/age/cmd/age-keygen"
)

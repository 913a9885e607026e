//go:build tools

// Package tools pins go-containerregistry's crane, built by scripts/build-tools.sh: the test
// bed's build node (scripts/build_node) pushes the images it "builds" with it.
package tools

import (
	_ "github.com/google/go-containerregistry/cmd/crane"
)

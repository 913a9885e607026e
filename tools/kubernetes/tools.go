//go:build tools

// Package tools pins the Kubernetes control-plane commands built for the
// embedded local cluster; scripts/build-tools.sh builds them with go build.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)

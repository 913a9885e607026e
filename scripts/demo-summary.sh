#!/usr/bin/env bash
# Print what `make demo` deployed on the embedded cluster and how to look at it.
set -euo pipefail
echo
echo "== Kubernetes $(kubectl version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])') on the embedded cluster"
kubectl get nodes -L hub.jupyter.org/node-purpose,node.kubernetes.io/instance-type
echo
echo "== helm releases"
helm list --all-namespaces
echo
echo "== pods of the hubs"
kubectl get pods --all-namespaces -l 'app.kubernetes.io/managed-by!=imagebuilding-hubs-test' \
  --field-selector metadata.namespace!=kube-system,metadata.namespace!=kube-node-lease -o wide
cat <<'MSG'

Look around:
  eval "$(make -s env)"                     # helm, kubectl, sops and the cluster's KUBECONFIG
  helm get values -n <hub> <hub>             # what the toolkit rendered for a hub (its jupyterhub release)
  scripts/hub-secrets view <hub>             # a hub's decrypted secrets (in memory only)
  make cluster-status / make cluster-down
MSG

"""THE TEST BED'S STAND-IN FOR A CONTAINER ENGINE ON FAKE (kwok) NODES. Not part of the product.

BinderHub's build pods land on kwok nodes, which run nothing: no kubelet serves their logs and
nothing completes them. This build node does the part a real node (kubelet, docker-api's dockerd,
repo2docker) would do, for BinderHub's build pods only (``component=binderhub-build``):

- ``kubelet``: serves the build pods' logs on the kubelet port (10250), where the kube-apiserver
  asks a node with no port of its own for them (kwok's nodes report port 0; kwok serves logs only
  from a configuration it was started with);
- ``engine``: plays repo2docker: checks the ref is in the repository (``git ls-remote``), makes a
  real small image and pushes it with crane under the pod's exact ``--image`` name, with the
  credentials mounted into the pod (its push Secret) and the CA the docker-api DaemonSet it pushes
  through mounts for the registry (``/etc/docker/certs.d/<host>/ca.crt``);
- ``node``: finds the build pods kwok has started and marks each Succeeded or Failed when its
  "build" ends (kwok completes Job-owned pods only).
"""

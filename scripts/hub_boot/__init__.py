"""The test bed's hub boot: the genuine JupyterHub of a hub deployed on the embedded cluster,
started on this machine from what the cluster holds.

``control`` reads the deployed hub (the ``hub`` ConfigMap and Secret, the hub and proxy
Deployments, the namespace's Services, the hub ServiceAccount) and starts ``supervisor``,
which starts ``inner`` in a private mount and network namespace: the ConfigMap and Secret are
laid out on ``/usr/local/etc/jupyterhub`` (an overlay whose upper layer is a tmpfs, so no
secret reaches the disk), a hosts file gives each Service name its own loopback address,
configurable-http-proxy and JupyterHub run with the Deployments' commands and environment, and
``stand_in`` answers for the Services and user servers that only exist as fake kwok pods. The
namespace has no route off the machine: a fake pod or cluster IP cannot be reached from it.
``bridge`` joins it to the host through unix sockets: the kube-apiserver in, the proxy's public
port out.
"""

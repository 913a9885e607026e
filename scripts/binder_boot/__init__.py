"""The test bed's binder boot: the genuine BinderHub of a hub deployed on the embedded cluster,
started on this machine beside the hub's boot (``scripts/hub_boot``), from what the cluster holds.

``deployed`` reads the binderhub-service release (its Deployment, Secret and ServiceAccount);
``spec`` derives the process: the Deployment's command and environment, the Secret's files on
``/etc/binderhub/mounted-secret/``, a kubeconfig with the ServiceAccount's token. ``control``
starts ``supervisor``, which joins the booted hub's network namespace and runs ``inner`` in a
mount namespace of its own: there BinderHub listens, takes the binderhub Service over from the
hub boot's stand-in (the proxy routes ``/services/binder/`` to it, with the hub's OAuth), and
reaches the registry on this machine's loopback through a unix-socket bridge.
"""

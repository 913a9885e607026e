"""The build node's loop: find BinderHub's build pods that kwok has started on its fake nodes, play
each build (``engine``), serve its log (``kubelet``), then complete the pod: Succeeded when the
image is pushed, Failed otherwise."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from pathlib import Path

from kubernetes import client, config

from build_node import engine, kubelet

BUILD_PODS = "component=binderhub-build"
FAKE_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
POLL_SECONDS = 0.5

log = logging.getLogger("build-node")


def _fake_nodes(core: client.CoreV1Api) -> set[str]:
    key, value = FAKE_NODE_ANNOTATION
    return {n.metadata.name for n in core.list_node().items if (n.metadata.annotations or {}).get(key) == value}


def _terminated_status(pod: client.V1Pod, succeeded: bool) -> dict:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    container = pod.spec.containers[0]
    return {"status": {
        "phase": "Succeeded" if succeeded else "Failed",
        "containerStatuses": [{
            "name": container.name, "image": container.image, "imageID": "", "ready": False, "restartCount": 0,
            "started": False,
            "state": {"terminated": {"exitCode": 0 if succeeded else 1, "reason": "Completed" if succeeded else "Error",
                                     "startedAt": now, "finishedAt": now}}}],
    }}


async def play(pod: client.V1Pod, api: client.ApiClient, logs: kubelet.Logs, crane: str) -> None:
    namespace, name = pod.metadata.namespace, pod.metadata.name
    build_log = logs.of(namespace, name)

    def emit(phase: str, message: str) -> None:
        build_log.add(json.dumps({"phase": phase, "message": message}).encode() + b"\n")

    succeeded = False
    try:
        request = engine.request_of(pod)
        digest = await engine.build(request, api, crane, emit)
        emit("built", f"Successfully pushed {request.image}" + (f" ({digest})" if digest else "") + "\n")
        succeeded = True
    except engine.BuildFailed as failure:
        emit("failed", f"{failure}\n")
    except Exception as error:
        log.exception("build of %s/%s", namespace, name)
        emit("failed", f"test bed build node error: {error.__class__.__name__}\n")
    build_log.finish()
    core = client.CoreV1Api(api)
    try:
        await asyncio.to_thread(core.patch_namespaced_pod_status, name, namespace, _terminated_status(pod, succeeded))
    except client.ApiException as error:
        log.warning("could not complete %s/%s: %s", namespace, name, error.reason)
    log.info("%s/%s: %s", namespace, name, "Succeeded" if succeeded else "Failed")


async def run(state_dir: Path, crane: str, kubeconfig: str | None = None) -> None:
    api = config.new_client_from_config(config_file=kubeconfig)
    core = client.CoreV1Api(api)
    logs = kubelet.Logs()
    server = await kubelet.serve(logs, kubelet.serving_context(state_dir))
    (state_dir / "ready").write_text("serving\n")
    log.info("serving build pods' logs on 127.0.0.1:%d", kubelet.KUBELET_PORT)
    seen: set[str] = set()
    tasks: set[asyncio.Task[None]] = set()
    try:
        while True:
            nodes = await asyncio.to_thread(_fake_nodes, core)
            pods = (await asyncio.to_thread(core.list_pod_for_all_namespaces, label_selector=BUILD_PODS)).items
            present = set()
            for pod in pods:
                present.add(pod.metadata.uid)
                if (pod.metadata.uid in seen or pod.spec.node_name not in nodes or pod.status.phase != "Running"
                        or pod.metadata.deletion_timestamp):
                    continue
                seen.add(pod.metadata.uid)
                log.info("%s/%s: building %s", pod.metadata.namespace, pod.metadata.name,
                         next((a for a in pod.spec.containers[0].args or [] if a.startswith("--image=")), "?"))
                task = asyncio.create_task(play(pod, api, logs, crane))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            for key in [k for k in logs.logs if k not in {(p.metadata.namespace, p.metadata.name) for p in pods}]:
                if logs.logs[key].done:
                    logs.forget(*key)
            seen &= present
            await asyncio.sleep(POLL_SECONDS)
    finally:
        server.close()

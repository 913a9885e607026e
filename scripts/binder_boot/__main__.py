"""``python -m binder_boot start|stop|status [NAMESPACE]`` (``make binder-boot HUB=<hub>``, ``make binder-stop``)."""

from __future__ import annotations

import argparse
import sys

from hub_boot.deployed import DeployedHubError

from binder_boot import control
from binder_boot.deployed import DeployedBinderError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="binder-boot", description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("namespace", nargs="?", help="the hub's namespace (the demo hubs: their name)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds BinderHub may take to answer")
    args = parser.parse_args(argv)
    if args.action == "status":
        for state_dir in sorted(control.STATE_ROOT.glob("*")) if control.STATE_ROOT.exists() else []:
            boot = control.running(state_dir.name)
            print(f"{state_dir.name}: " + (f"running, pid {boot.pid}, {boot.url}/" if boot else "not running"))
        return 0
    if not args.namespace:
        parser.error(f"{args.action} needs the hub's namespace")
    if args.action == "stop":
        stopped = control.stop(args.namespace)
        print(f"{args.namespace}: {'stopped' if stopped else 'BinderHub was not started'}")
        return 0
    try:
        boot = control.start(args.namespace, timeout=args.timeout)
    except (control.BinderBootError, DeployedBinderError, DeployedHubError) as err:
        print(f"binder-boot: {err}", file=sys.stderr)
        return 1
    print(f"{args.namespace}: BinderHub answers at {boot.url}/ through the hub's proxy (pid {boot.pid})")
    print(f"  log: {boot.log}")
    print(f"  stop: make binder-stop HUB={args.namespace}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

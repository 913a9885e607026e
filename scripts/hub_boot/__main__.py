"""``python -m hub_boot start|stop|status [NAMESPACE]`` (``make hub-boot HUB=<hub>``, ``make hub-stop``)."""

from __future__ import annotations

import argparse
import sys

from hub_boot import control
from hub_boot.deployed import DeployedHubError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hub-boot", description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("namespace", nargs="?", help="the hub's namespace (the demo hubs: their name)")
    parser.add_argument("--timeout", type=float, default=90, help="seconds the hub may take to become healthy")
    args = parser.parse_args(argv)
    if args.action == "status":
        for state_dir in sorted(control.STATE_ROOT.glob("*")) if control.STATE_ROOT.exists() else []:
            boot = control.running(state_dir.name)
            print(f"{state_dir.name}: " + (f"running, pid {boot.pid}, {boot.url}/hub/" if boot else "not running"))
        return 0
    if not args.namespace:
        parser.error(f"{args.action} needs the hub's namespace")
    if args.action == "stop":
        try:
            stopped = control.stop(args.namespace)
        except control.BootError as err:
            print(f"hub-boot: {err}", file=sys.stderr)
            return 1
        print(f"{args.namespace}: {'stopped' if stopped else 'was not booted'}")
        return 0
    try:
        boot = control.start(args.namespace, timeout=args.timeout)
    except (control.BootError, DeployedHubError) as err:
        print(f"hub-boot: {err}", file=sys.stderr)
        return 1
    print(f"{args.namespace}: JupyterHub healthy at {boot.url}/hub/ (pid {boot.pid})")
    print(f"  logs: {boot.hub_log} {boot.proxy_log} {boot.stand_in_log}")
    print(f"  stop: make hub-stop HUB={args.namespace}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

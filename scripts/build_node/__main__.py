"""``python -m build_node run|start|stop|status`` (the test bed's build node; ``make build-node``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from build_node import control, node


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build-node", description=__doc__)
    parser.add_argument("action", choices=["run", "start", "stop", "status"])
    parser.add_argument("--state-dir", type=Path, default=control.STATE_DIR)
    args = parser.parse_args(argv)
    if args.action == "run":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        asyncio.run(node.run(args.state_dir, str(control.crane())))
        return 0
    if args.action == "stop":
        print("build node: " + ("stopped" if control.stop(args.state_dir) else "was not running"))
        return 0
    if args.action == "status":
        pid = control.running(args.state_dir)
        print(f"build node: running, pid {pid}" if pid else "build node: not running")
        return 0
    try:
        pid = control.start(args.state_dir)
    except control.BuildNodeError as err:
        print(f"build-node: {err}", file=sys.stderr)
        return 1
    print(f"build node: serving build pods' logs on 127.0.0.1:{node.kubelet.KUBELET_PORT} (pid {pid}); "
          f"log {args.state_dir / 'node.log'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

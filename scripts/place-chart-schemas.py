#!/usr/bin/env python3
"""Place the real charts' values schemas into the stand-in charts.

The schemas of the upstream ``jupyterhub`` and ``binderhub-service`` charts are
test data kept outside the repository (``../shared/schemas/<chart>.values.schema.yaml``
by default). This script converts each into ``charts/<chart>/values.schema.json``,
where helm finds it and validates values exactly as the real chart does. The JSON
files are ignored by git. Without the schemas folder it says so and exits 0: the
stand-in charts then deploy without schema validation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMAS = REPO_ROOT.parent / "shared" / "schemas"
DEFAULT_CHARTS = REPO_ROOT / "charts"
CHARTS_WITH_SCHEMAS: tuple[str, ...] = ("jupyterhub", "binderhub-service")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--schemas",
        type=Path,
        default=DEFAULT_SCHEMAS,
        help=f"folder holding <chart>.values.schema.yaml (default: {DEFAULT_SCHEMAS})",
    )
    parser.add_argument(
        "--charts",
        type=Path,
        default=DEFAULT_CHARTS,
        help=f"folder holding the stand-in charts (default: {DEFAULT_CHARTS})",
    )
    return parser.parse_args(argv)


def load_schema(path: Path) -> dict[str, object]:
    """Read one schema written in YAML (anchors resolved) and check its shape."""
    schema = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(schema, dict) or "properties" not in schema:
        raise ValueError(f"{path} is not a JSON schema of chart values")
    return schema


def write_schema(schema: dict[str, object], chart_dir: Path) -> Path:
    """Write the schema as the chart's values.schema.json; return its path."""
    target = chart_dir / "values.schema.json"
    target.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
    return target


def place(chart: str, schemas: Path, charts: Path) -> str:
    """Place one chart's schema; return a line saying what happened."""
    source = schemas / f"{chart}.values.schema.yaml"
    chart_dir = charts / chart
    if not (chart_dir / "Chart.yaml").is_file():
        raise FileNotFoundError(f"no chart at {chart_dir}")
    if not source.is_file():
        return f"skipped {chart}: {source} is missing (the chart stays without schema)"
    target = write_schema(load_schema(source), chart_dir)
    return f"placed {source} -> {target}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.schemas.is_dir():
        print(
            f"place-chart-schemas: {args.schemas} is missing; the stand-in charts "
            "will deploy without the real charts' values schemas (no validation).",
        )
        return 0
    try:
        for chart in CHARTS_WITH_SCHEMAS:
            print(f"place-chart-schemas: {place(chart, args.schemas, args.charts)}")
    except (OSError, ValueError, yaml.YAMLError) as error:
        print(f"place-chart-schemas: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A chart of the tests' own for companion releases (hub_companion_releases), written where a test
wants it: a stand-in for a home-directory NFS server chart - a Deployment, a Service and a
PersistentVolumeClaim, with a ``values.schema.json`` that refuses unknown keys and wrong types.

The server's export token (``exportToken``) is a Deployment environment variable next to the
quota settings, so that a diff of a quota change shows it as context: the redaction of a
companion's decrypted values is then what keeps it out of the output.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

CHART = "home-nfs"
VERSION = "0.3.0"
APP_VERSION = "2.1.0"

VALUES = {
    "image": {"name": "registry.k8s.io/pause", "tag": "3.9"},
    "nodeSelector": {},
    "storage": {"size": "1Gi"},
    "quota": {"enabled": False, "hardLimit": "10Gi"},
    "exportToken": "",
}

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "image": {"type": "object", "additionalProperties": False,
                  "properties": {"name": {"type": "string"}, "tag": {"type": "string"}}},
        "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}},
        "storage": {"type": "object", "additionalProperties": False, "properties": {"size": {"type": "string"}}},
        "quota": {"type": "object", "additionalProperties": False,
                  "properties": {"enabled": {"type": "boolean"}, "hardLimit": {"type": "string"}}},
        "exportToken": {"type": "string"},
    },
}

LABELS = """app.kubernetes.io/name: {{ .Chart.Name }}
    app.kubernetes.io/instance: {{ .Release.Name }}"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    @LABELS@
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        @POD_LABELS@
    spec:
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: server
          image: "{{ .Values.image.name }}:{{ .Values.image.tag }}"
          ports:
            - containerPort: 2049
          env:
            - name: QUOTA_ENABLED
              value: {{ .Values.quota.enabled | quote }}
            - name: EXPORT_TOKEN
              value: {{ .Values.exportToken | quote }}
            - name: QUOTA_HARD_LIMIT
              value: {{ .Values.quota.hardLimit | quote }}
          volumeMounts:
            - name: export
              mountPath: /export
      volumes:
        - name: export
          persistentVolumeClaim:
            claimName: {{ .Release.Name }}
""".replace("@LABELS@", LABELS).replace("@POD_LABELS@", LABELS.replace("\n    ", "\n        "))

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
  labels:
    @LABELS@
spec:
  selector:
    app.kubernetes.io/instance: {{ .Release.Name }}
  ports:
    - name: nfs
      port: 2049
      targetPort: 2049
""".replace("@LABELS@", LABELS)

CLAIM = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .Release.Name }}
  labels:
    @LABELS@
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: {{ .Values.storage.size }}
""".replace("@LABELS@", LABELS)


def write_chart(directory: Path, name: str = CHART, version: str = VERSION) -> Path:
    """The chart, unpacked in ``directory`` (as ``helm pull --untar`` gives a chart); returns it."""
    (directory / "templates").mkdir(parents=True)
    (directory / "Chart.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v2", "name": name, "version": version, "appVersion": APP_VERSION, "type": "application",
        "description": "A stand-in for a home-directory NFS server chart (imagebuilding-hubs tests)"}))
    (directory / "values.yaml").write_text(yaml.safe_dump(VALUES))
    (directory / "values.schema.json").write_text(json.dumps(SCHEMA, indent=2))
    for file_name, text in (("deployment.yaml", DEPLOYMENT), ("service.yaml", SERVICE), ("pvc.yaml", CLAIM)):
        (directory / "templates" / file_name).write_text(text)
    return directory

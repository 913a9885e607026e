"""Stand-in for ansible-test's pip bootstrap script (get-pip, downloaded from
ci-files.testing.ansible.com, which this machine cannot reach): pip from the interpreter's own
ensurepip, then the pip version ansible-test asks for from PyPI. scripts/ansible-test.sh puts
it where ansible-test looks for its cached copy."""

import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}  # options of get-pip that pip install lacks


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True,
                   stdout=subprocess.DEVNULL)
    return subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())

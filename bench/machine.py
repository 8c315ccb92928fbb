"""Facts about the machine a benchmark ran on, for the results file."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib.metadata import version


def cpu_model() -> str:
    """The CPU's model name, as the kernel reports it."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> str:
    """Total memory in GiB, from /proc/meminfo."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def wrk_version() -> str:
    path = shutil.which("wrk")
    if not path:
        return "not installed (Python load generator used)"
    result = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).splitlines()[0].split()
    # "wrk debian/4.1.0-3+b2 [epoll] Copyright ...": keep the name and version.
    return " ".join(first[:2])


def load_average() -> str:
    """The 1-minute load average: anything else running skews every number here."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def machine_facts(postgres_version: str) -> dict[str, str]:
    """CPU, cores, memory, Python, PostgreSQL, the servers' versions and the load."""
    return {
        "CPU": cpu_model(),
        "Cores": str(os.cpu_count()),
        "Memory": memory_gib(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": postgres_version,
        "gunicorn": version("gunicorn"),
        "Load generator": wrk_version(),
        "Load average before the run (1 min)": load_average(),
    }

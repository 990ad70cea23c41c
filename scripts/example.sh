#!/usr/bin/env bash
# The main job: builds a tiny busybox image offline and runs a container from it with Gantry's
# own runtime. (Runs the hello pipeline once `gantry run` exists.)
set -euo pipefail
cd "$(dirname "$0")/.."
./build/gantry version

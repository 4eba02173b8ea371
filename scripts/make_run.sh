#!/bin/sh
# `make run`: one cycle of the service with the default config and model.
set -eu
exec ./finsent run

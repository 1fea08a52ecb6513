#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and run hotpath: the C
# libraries for cgo (libvips) and the tools the build uses. Only missing
# packages are installed, so a second run is quick and needs no network.
set -euo pipefail

packages=(libvips-dev libvips-tools pkg-config gcc make)
if [ "${1:-}" = "--test" ]; then
	# Debian's python3 carries the packages the Python tests and the baselines
	# need (PyPI is not reachable here); /usr/bin/time measures peak RSS in bench/;
	# the README test runs the walkthroughs' curl and zstd lines.
	packages+=(python3 python3-pytest python3-cryptography python3-httpx python3-pil python3-fastapi python3-uvicorn python3-multipart python3-venv python3-pip python3-wheel python3-setuptools time curl zstd)
	# The web console's browser tests drive Debian's chromium (chromedp); a
	# font so that its pages and screenshots render text.
	packages+=(chromium fonts-dejavu-core)
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "go is not on PATH: install Go 1.26 (https://go.dev/dl) first" >&2; exit 1; }

#!/usr/bin/env bash
# ci/deps.sh - install, with apt-get, only the Debian 12 packages abifuzz needs that are missing.
# Idempotent: a second run installs nothing and prints nothing but a summary line.
set -euo pipefail

# Required for the build and the tests; optional ones only turn parts off when absent,
# but we install them all so a fresh machine runs every test.
# chromium: the report test renders report.html headless (skipped without it).
# clang-14 (Debian 12's default clang): one of the C compilers the cc backend is tested with.
# llvm-19-dev, libtcc-dev + tcc, libgccjit-12-dev: the llvm, tcc and gccjit backends
# (doc/backends.md); each is left out of the build when absent.
pkgs=(cmake ninja-build pkg-config gcc make libffi-dev libcapstone-dev libunicorn-dev
      clang-19 libclang-rt-19-dev clang-14 python3 chromium llvm-19-dev libtcc-dev tcc
      libgccjit-12-dev)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    echo "deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${#missing[@]} package(s)"

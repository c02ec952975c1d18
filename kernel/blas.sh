#!/bin/sh
# Prints "openblas" when OpenBLAS can be linked here, after installing
# Debian's libopenblas-dev when run as root and missing; prints nothing
# otherwise (the build then uses gonum's pure-Go BLAS). Used by the Makefile
# to choose the openblas build tag.
have() { ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\b'; }
if ! have && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing libopenblas-dev (OpenBLAS, ~5x faster training)..." >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >/dev/null 2>&1; }
fi
if have && command -v gcc >/dev/null 2>&1; then
	echo openblas
else
	echo "OpenBLAS not found: using gonum's pure-Go BLAS (install libopenblas-dev and gcc for ~5x faster training)" >&2
fi

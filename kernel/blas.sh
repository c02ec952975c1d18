#!/bin/sh
# Prints "openblas" when OpenBLAS can be linked here, after installing
# Debian's libopenblas-dev when run as root and missing; prints nothing
# otherwise (the build then uses gonum's pure-Go BLAS). Used by the Makefile
# to choose the openblas build tag. Works for any user: ldconfig lives in
# /sbin or /usr/sbin, which are not on a normal user's PATH, and when it
# cannot be found the usual library folders are looked at directly.
ldconfig_cmd() {
	for c in ldconfig /sbin/ldconfig /usr/sbin/ldconfig; do
		if command -v "$c" >/dev/null 2>&1; then
			echo "$c"
			return 0
		fi
	done
	return 1
}
have() {
	if c=$(ldconfig_cmd) && "$c" -p 2>/dev/null | grep -q 'libopenblas\.so\b'; then
		return 0
	fi
	for f in /usr/lib/*/libopenblas.so /usr/lib/libopenblas.so /usr/lib64/libopenblas.so /usr/local/lib/libopenblas.so; do
		[ -e "$f" ] && return 0
	done
	return 1
}
if ! have && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing libopenblas-dev (OpenBLAS, ~5x faster training)..." >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >/dev/null 2>&1; }
fi
if have && command -v gcc >/dev/null 2>&1; then
	echo openblas
elif [ "$(id -u)" = 0 ]; then
	echo "OpenBLAS not found: using gonum's pure-Go BLAS (install libopenblas-dev and gcc for ~5x faster training)" >&2
else
	echo "OpenBLAS not found: using gonum's pure-Go BLAS, ~5x slower; for full speed: sudo apt-get install libopenblas-dev gcc" >&2
fi

#!/bin/sh
# Check that the libraries dai needs are installed, naming the Debian package
# to install for each one missing, instead of letting the compiler fail.
# Usage: checkdeps.sh build|test|fuzz
what=${1:-build}
missing=""
need() { # need PKGCONFIG-NAME DEBIAN-PACKAGE
	pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"
}
if ! command -v pkg-config >/dev/null 2>&1; then
	echo "dai: pkg-config not found: install it with 'apt-get install pkg-config' (or 'make deps')" >&2
	exit 1
fi
case $what in
build)
	need libsodium libsodium-dev
	need libarchive libarchive-dev
	need zlib zlib1g-dev
	need libsecp256k1 libsecp256k1-dev
	need libcurl libcurl4-openssl-dev
	;;
test)
	need criterion libcriterion-dev
	;;
fuzz)
	command -v "${FUZZCC:-clang}" >/dev/null 2>&1 || missing="$missing clang"
	;;
esac
if [ -n "$missing" ]; then
	echo "dai: missing Debian packages:$missing: install with 'apt-get install$missing' (or 'make deps')" >&2
	exit 1
fi
exit 0
